import type { CreditRequest } from "@cellwallet/contract";

/** The destination cell's answer to a cross-cell credit. */
export type CreditResult =
  | { kind: "credited"; toUserId: string }
  /** Definitive: nothing was credited and nothing ever will be; the sender is refunded. */
  | { kind: "refused"; code: "wallet-not-found" | "currency-mismatch"; detail: string }
  /** Unknown: timed out, unreachable or overloaded. The transfer stays PENDING and is retried. */
  | { kind: "unavailable"; reason: string };

/** Asks the destination cell (through the router) to credit a cross-cell transfer, idempotently by transferId. */
export interface TransferCreditor {
  credit(request: CreditRequest, requestId: string): Promise<CreditResult>;
}
