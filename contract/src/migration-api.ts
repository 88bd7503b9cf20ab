/**
 * The internal API a cell offers the control plane to move one user's wallet to
 * another cell (clone → fence → settle → copy tail → verify → flip → redirect →
 * forget). cellctl calls each cell's replicas directly with a service token
 * (scope `wallet:internal`, signed with CELL_INTERNAL_SECRET). Every call is
 * idempotent, so a crashed migration can be resumed or rolled back by calling
 * the same steps again.
 *
 * A cell holds, for each wallet, the placement epoch it owns it at and one of
 * these states. Only `active` accepts writes; the money is never writable in two
 * cells because the source is fenced (`frozen`) before the target is activated,
 * and the target only becomes `active` after verifying the copied chain ends at
 * the source's frozen head.
 */
export const MIGRATION_PATH_PREFIX = "/internal/v1/migrations";

/** Import bodies may carry whole export pages: larger than the public API's 16 KiB. */
export const MIGRATION_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Default and largest `limit` (ledger entries per page) of an export. */
export const MIGRATION_EXPORT_DEFAULT_LIMIT = 200;
export const MIGRATION_EXPORT_MAX_LIMIT = 1000;

/** `absent`: the cell has no copy. `importing`: a copy being built in the target, never writable. */
export type WalletOwnershipState = "absent" | "importing" | "active" | "frozen" | "moved";

/** Answered by a cell for a wallet it has fenced or given away; the router strips it. */
export const WALLET_LOCATION_HEADER = "Wallet-Location";

export interface MigrationWalletStatus {
  userId: string;
  state: WalletOwnershipState;
  walletId?: string;
  /** The placement epoch at which this cell holds the wallet. */
  epoch?: number;
  currency?: string;
  /** Decimal string, as the public API shows it. */
  balance?: string;
  /** Number of ledger entries (= last sequence). */
  version?: number;
  headHash?: string;
  /** Outgoing cross-cell transfers still PENDING (debited here, credit not confirmed). */
  pendingTransfers?: number;
  /** Set when `moved`: the cell that now owns the wallet. */
  movedTo?: string;
}

/** One page of a wallet's export. `items` are opaque to the control plane: it hands them to the target as they are. */
export interface MigrationExportPage {
  status: MigrationWalletStatus;
  items: unknown[];
  /** Present while there is more to read: pass it back as `?cursor=`. */
  nextCursor?: string;
  /**
   * Always present: pass it back as `?cursor=` later to read only what changed after this page
   * (the tail: new entries, and the current records of transfers and idempotency answers that were
   * still open). Keep the last page's `tailCursor` after the clone and export the tail from it.
   */
  tailCursor?: string;
}

/**
 * Answer of POST .../{userId}/import: the copy's status (state `importing`, version and head so far)
 * and what the page did.
 */
export interface ImportResult {
  status: MigrationWalletStatus;
  /** Items stored by this call. */
  stored: number;
  /** Items already stored identically (a repeated page). */
  unchanged: number;
  /**
   * Idempotency records not copied because this cell already holds another request's record under
   * the same key (same principal and key used in both cells): a retry there answers 422, never applies twice.
   */
  skippedIdempotency: number;
}

/** Body of POST .../{userId}/freeze (source): fence writes at `epoch` for a move to `targetCellId`. */
export interface FreezeRequest {
  migrationId: string;
  epoch: number;
  targetCellId: string;
}

/** Body of POST .../{userId}/unfreeze (source, rollback before the flip). */
export interface UnfreezeRequest {
  migrationId: string;
  epoch: number;
}

/** Body of POST .../{userId}/import (target): store exported items as an `importing` copy at `epoch` (the new one). */
export interface ImportRequest {
  migrationId: string;
  epoch: number;
  sourceCellId: string;
  items: unknown[];
}

/** Body of POST .../{userId}/activate (target): verify the whole chain, check it ends at the expected head, then own it. */
export interface ActivateRequest {
  migrationId: string;
  epoch: number;
  expectedVersion: number;
  expectedHeadHash: string;
}

/** Body of POST .../{userId}/abandon (target, rollback): drop an `importing` copy; never touches an active one. */
export interface AbandonRequest {
  migrationId: string;
}

/** Body of POST .../{userId}/moved (source, after the flip): the copy becomes read-only, kept for audit. */
export interface MarkMovedRequest {
  migrationId: string;
  epoch: number;
  targetCellId: string;
}
