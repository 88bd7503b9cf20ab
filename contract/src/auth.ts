/**
 * Authorisation rules of docs/conventions.md as pure functions: who may do what to
 * which wallet. Token verification lives in jwt.ts; this file has no I/O.
 */
export const SCOPES = {
  wallet: "wallet",
  operator: "wallet:operator",
  auditor: "wallet:auditor",
  /** Cell-to-cell calls through the router (cross-cell credits, migrations). Never given to users. */
  internal: "wallet:internal",
} as const;

export interface Principal {
  /** The JWT `sub`: the user id for end users, a service or operator name otherwise. */
  subject: string;
  scopes: string[];
}

export type Action =
  | "wallet:create"
  | "wallet:deposit"
  | "wallet:withdraw"
  | "wallet:transfer-out"
  | "wallet:read"
  | "cell:audit";

function has(principal: Principal, scope: string): boolean {
  return principal.scopes.includes(scope);
}

/**
 * May `principal` perform `action` on a wallet owned by `ownerUserId`?
 * (For wallet:create the owner is the user the wallet is created for.)
 */
export function isAllowed(principal: Principal, action: Action, ownerUserId?: string): boolean {
  const own = ownerUserId !== undefined && ownerUserId === principal.subject && has(principal, SCOPES.wallet);
  switch (action) {
    case "wallet:create":
    case "wallet:deposit":
    case "wallet:withdraw":
      return own || has(principal, SCOPES.operator);
    case "wallet:transfer-out":
      // Operators move money in and out of a wallet, never from one user to another.
      return own;
    case "wallet:read":
      return own || has(principal, SCOPES.operator) || has(principal, SCOPES.auditor);
    case "cell:audit":
      return has(principal, SCOPES.auditor);
  }
}

/** Any scope that lets the principal use the wallet API at all. */
export function hasAnyWalletScope(principal: Principal): boolean {
  return [SCOPES.wallet, SCOPES.operator, SCOPES.auditor].some((s) => has(principal, s));
}
