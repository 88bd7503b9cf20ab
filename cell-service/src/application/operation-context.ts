import type { AuditContext, Principal } from "@cellwallet/contract";
import type { IdempotencyTicket, InFlight } from "./idempotency.js";
import type { LedgerStore } from "./ledger-store.js";

/** What every use case needs from the cell. */
export interface CellDeps {
  cellId: string;
  store: LedgerStore;
  newId(): string;
  inFlight: InFlight;
  idempotencyRetentionMs: number;
  /** Optional hook counting operations by type and outcome (metrics). */
  onOperation?(type: string, outcome: string): void;
}

/** Who is asking, and the audit context that will be hashed into the entries. */
export interface OperationContext {
  principal: Principal;
  audit: AuditContext;
  requestId: string;
  idempotency?: IdempotencyTicket;
}
