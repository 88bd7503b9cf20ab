import { cellHint, type Principal } from "@cellwallet/contract";
import type { CellRecord } from "@cellwallet/placement";
import { cellFor, usable } from "./choose-cell.js";
import { relay } from "./relay.js";
import type { Resolution } from "./resolution.js";
import { unavailable } from "./router-answers.js";
import type { Ctx, RouterAppDeps } from "./router-env.js";

/**
 * Choosing the cell again, when the first choice was out of date: a wallet that moved, a transfer whose
 * creating cell has been retired.
 */

/**
 * After a 503 + Wallet-Location from `answeredBy`: forget what led there, resolve again, and when the
 * store still says `answeredBy` (not yet visible, or unreachable) trust the cell's Wallet-Location.
 */
export function relocator(c: Ctx, deps: RouterAppDeps, resolution: Resolution, principal: Principal | undefined) {
  const { directory } = deps;
  return async function relocate(answeredBy: string, location: string): Promise<CellRecord | Response | undefined> {
    if (resolution.kind === "wallet" || resolution.kind === "internal-credit") {
      directory.forgetWallet(resolution.walletId);
    } else if (resolution.kind === "create-wallet" || resolution.kind === "find-wallets") {
      directory.forgetUser(resolution.userId);
    }
    if (principal !== undefined) {
      const again = await cellFor(c, deps, resolution, principal);
      if (again instanceof Response) return again;
      if (again.cellId !== answeredBy) return again;
    } else if (resolution.kind === "internal-credit") {
      const hint = resolution.cellId ?? cellHint(resolution.walletId);
      if (hint !== undefined) {
        const located = await directory.locateWallet(resolution.walletId, hint);
        if (located.cellId !== answeredBy) {
          const found = await directory.findCell(located.cellId);
          if (found.status === "known") return found.cell;
        }
      }
    }
    const named = await directory.findCell(location);
    return named.status === "known" ? named.cell : undefined;
  };
}

/**
 * A transfer id names the cell that created it. Once that cell is drained (its users moved, their transfer
 * records with them) and retired, the id can no longer say where the transfer is: every serving cell is
 * asked in turn (a transfer lives in its sender's and its receiver's cells), never one at random, which would
 * answer 404 for a transfer that exists. A 404 is the answer only when every cell gave it.
 */
export async function askEveryCell(
  c: Ctx,
  deps: RouterAppDeps,
  bytes: Uint8Array,
  resolution: Resolution,
  principal: Principal,
): Promise<Response> {
  let last: Response | undefined;
  for (const cell of deps.directory.cells().filter(usable)) {
    const answer = await relay(c, deps, cell, bytes, {
      addIdempotencyKey: false,
      relocate: relocator(c, deps, resolution, principal),
    });
    if (answer.status !== 404) return answer;
    last = answer;
  }
  return last ?? unavailable(c, "the service is unavailable; retry later");
}

/** A GET naming a transfer (or other hinted resource) whose cell the registry lists as retired. */
export async function namesRetiredCell(deps: RouterAppDeps, resolution: Resolution, method: string): Promise<boolean> {
  if (resolution.kind !== "hint" || method !== "GET") return false;
  const named = await deps.directory.findCell(resolution.cellId);
  return named.status === "unknown" && deps.directory.cell(resolution.cellId)?.state === "retired";
}
