/**
 * Production mode (WALLET_MODE=production or NODE_ENV=production): every process refuses the marked
 * local-development defaults (secrets, keys) in it. One definition, so that a cell, a router, cellctl and
 * cellload never disagree on whether they run in production.
 */
export function isProductionMode(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.WALLET_MODE === "production" || env.NODE_ENV === "production";
}
