import { isAllowed, type Principal } from "@cellwallet/contract";
import type { CellRecord } from "@cellwallet/placement";
import type { Resolution } from "./resolution.js";
import { sendProblem, unavailable } from "./router-answers.js";
import type { Ctx, RouterAppDeps } from "./router-env.js";

/**
 * Choosing the cell: a Resolution (resolution.ts, pure) made a cell by the placement directory: the user's
 * placement (onboarding an unplaced user), the wallet's relocation, the cell an id names, or any cell.
 */

/** A cell that serves traffic: not retired, and with an endpoint of non-zero weight. */
export function usable(cell: CellRecord): boolean {
  return cell.state !== "retired" && cell.endpoints.some((e) => e.weight > 0);
}

/** Any cell that serves traffic: for answers every cell gives alike (validation, not found, the API document). */
export function anyCell(deps: RouterAppDeps): CellRecord | undefined {
  const random = deps.random ?? Math.random;
  const cells = deps.directory.cells().filter(usable);
  const active = cells.filter((cell) => cell.state === "active");
  const pool = active.length > 0 ? active : cells;
  return pool[Math.floor(random() * pool.length)];
}

/** The cell a public API request goes to, or the answer the router gives itself. */
export async function cellFor(
  c: Ctx,
  deps: RouterAppDeps,
  resolution: Resolution,
  principal: Principal,
): Promise<CellRecord | Response> {
  const { directory } = deps;
  switch (resolution.kind) {
    case "create-wallet":
    case "find-wallets":
      return cellOfUser(c, deps, resolution, principal);
    case "wallet": {
      const found = await directory.findWalletCell(resolution.walletId, resolution.cellId);
      if (found.status === "known") return found.cell;
      if (found.status === "unavailable") return unavailable(c, "the service is unavailable; retry later");
      break;
    }
    case "hint": {
      const found = await directory.findCell(resolution.cellId);
      if (found.status === "known") return found.cell;
      // The registry cannot be read: the id may name a cell newer than our copy, so no 404 from here.
      if (found.status === "unavailable") return unavailable(c, "the service is unavailable; retry later");
      break;
    }
    case "internal-credit":
      break;
    case "any":
      break;
  }
  return anyCell(deps) ?? unavailable(c, "the service is unavailable; retry later");
}

/**
 * POST /wallets and GET /wallets?userId=: the user's placement. An unplaced user has no wallets (an empty
 * list, answered here) or is onboarded (placed in a cell) to create one, when the principal may.
 */
async function cellOfUser(
  c: Ctx,
  { directory, logger }: RouterAppDeps,
  resolution: Extract<Resolution, { kind: "create-wallet" | "find-wallets" }>,
  principal: Principal,
): Promise<CellRecord | Response> {
  const { userId } = resolution;
  const found = await directory.lookup(userId);
  let cellId: string;
  if (found.status === "unavailable") return unavailable(c, "the user directory is unavailable; retry later");
  if (found.status === "placed") cellId = found.cellId;
  else if (resolution.kind === "find-wallets") {
    if (!isAllowed(principal, "wallet:read", userId)) {
      return sendProblem(c, "forbidden", `the principal may not read the wallets of ${userId}`);
    }
    // Never placed: no cell holds a wallet of this user.
    return c.json({ items: [] });
  } else {
    if (!isAllowed(principal, "wallet:create", userId)) {
      return sendProblem(c, "forbidden", `the principal may not create a wallet for ${userId}`);
    }
    const placed = await directory.onboard(userId);
    if (placed.status === "no-capacity") return unavailable(c, "no capacity for new users right now; retry later");
    if (placed.status === "unavailable") return unavailable(c, "the user directory is unavailable; retry later");
    cellId = placed.cellId;
  }
  const placedCell = await directory.findCell(cellId);
  if (placedCell.status !== "known") {
    if (placedCell.status === "unknown") {
      logger.error({ requestId: c.get("requestId"), cellId }, "user placed in a cell the registry does not serve");
    }
    return unavailable(c, "the service is unavailable; retry later");
  }
  return placedCell.cell;
}
