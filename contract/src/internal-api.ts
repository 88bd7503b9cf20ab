/**
 * The internal API between cells, always reached through the router (cells
 * share no state and never call each other directly). Callers authenticate with
 * a service token (scope `wallet:internal`) signed with the internal secret,
 * which is distinct from the secret or keys that sign user tokens.
 */
export const INTERNAL_CREDIT_PATH = "/internal/v1/transfers/credit";

/** Local-development default for CELL_INTERNAL_SECRET; production mode refuses it. */
export const DEVELOPMENT_INTERNAL_SECRET = "cellwallet-local-internal-secret-NOT-FOR-PRODUCTION";

/** Source cell → destination cell: credit the receiver of a cross-cell transfer, idempotent by transferId. */
export interface CreditRequest {
  transferId: string;
  fromWalletId: string;
  toWalletId: string;
  /** Formatted with the currency's minor digits, e.g. "10.50". */
  amount: string;
  currency: string;
  sourceCellId: string;
  reference?: string;
}

/** 201 when this call credited, 200 when an earlier call already had: either way the money is there. */
export interface CreditConfirmation {
  transferId: string;
  status: "COMPLETED";
  toUserId: string;
  creditedAt: string;
}
