import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import type { IdempotencyRecord } from "../ledger-store.js";

/**
 * What a wallet's export is made of: everything needed to rebuild it exactly in
 * another cell. The HTTP adapter turns these into JSON and back; the control
 * plane hands them from source to target without looking inside.
 */
export type MigrationItem =
  /** The wallet's identity; balance, version and head are rebuilt from the entries. */
  | { kind: "wallet"; walletId: string; userId: string; currency: string; createdAt: number }
  /** One ledger entry with its stored audit context and hash. */
  | { kind: "entry"; entry: LedgerEntry }
  /** A transfer record involving the wallet (sent, received, or the credit record of an incoming cross-cell one). */
  | { kind: "transfer"; transfer: Transfer }
  /** The stored answer of an idempotent request on the wallet. */
  | { kind: "idempotency"; record: IdempotencyRecord };
