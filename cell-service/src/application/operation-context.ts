import type { KeyObject } from "node:crypto";
import type { AuditContext, Principal } from "@cellwallet/contract";
import type { IdempotencyTicket, InFlight } from "./idempotency.js";
import type { LedgerStore } from "./ledger-store.js";
import type { TransferCreditor } from "./transfer-creditor.js";

/** What every use case needs from the cell. */
export interface CellDeps {
  cellId: string;
  store: LedgerStore;
  newId(): string;
  inFlight: InFlight;
  idempotencyRetentionMs: number;
  /** Reaches other cells for cross-cell transfers; absent when this cell runs alone. */
  creditor?: TransferCreditor;
  /** Public keys whose checkpoint signatures verification accepts, by keyId. */
  checkpointKeys?: ReadonlyMap<string, KeyObject>;
  /**
   * Optional hook counting operations by type and outcome (metrics): ok, refused (with the problem code),
   * fenced, replayed (an Idempotency-Key's stored answer), conflict (the key is in use by a running request).
   */
  onOperation?(type: string, outcome: string, code?: string): void;
}

/** Who is asking, and the audit context that will be hashed into the entries. */
export interface OperationContext {
  principal: Principal;
  audit: AuditContext;
  requestId: string;
  idempotency?: IdempotencyTicket;
}
