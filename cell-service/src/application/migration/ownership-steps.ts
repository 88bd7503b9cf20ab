import {
  type AbandonRequest,
  type ActivateRequest,
  type FreezeRequest,
  type MarkMovedRequest,
  type MigrationWalletStatus,
  problem,
  type UnfreezeRequest,
} from "@cellwallet/contract";
import type { UserFence } from "../../domain/ownership.js";
import { fail, ok, type Result } from "../../domain/result.js";
import { verifyWallet } from "../cell-verification.js";
import { ContentionError } from "../ledger-store.js";
import type { CellDeps } from "../operation-context.js";
import { currentStatus, type Holding, locate } from "./wallet-status.js";

/**
 * The ownership steps of a migration, each idempotent (repeating a step that
 * already happened answers the current status) and conditional in the store
 * (a step that lost a race re-reads and decides again).
 */

type Step = Result<MigrationWalletStatus>;
const conflict = (detail: string): Step => fail(problem("migration-conflict", detail));
const ATTEMPTS = 5;

/** Re-reads and re-decides until a conditional change sticks (another writer changed the copy meanwhile). */
async function untilApplied(
  deps: CellDeps,
  userId: string,
  decide: (holding: Holding) => Promise<Step | "applied" | "retry">,
  withPending = false,
): Promise<Step> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const outcome = await decide(await locate(deps.store, userId));
    if (outcome === "applied") return ok(await currentStatus(deps.store, userId, withPending));
    if (outcome !== "retry") return outcome;
  }
  throw new ContentionError("the wallet's ownership kept changing during this migration step; retry");
}

const describeHolding = (h: Holding) =>
  h.wallet
    ? `wallet ${h.wallet.walletId} is ${h.wallet.ownership.state} at epoch ${h.wallet.ownership.epoch}` +
      (h.wallet.ownership.migrationId ? ` (migration ${h.wallet.ownership.migrationId})` : "")
    : h.fence
      ? `user ${h.userId} is fenced ${h.fence.state} by migration ${h.fence.migrationId}`
      : `user ${h.userId} has no wallet here`;

/** Source: fences writes at `epoch` (503 + Retry-After to clients) for a move to `targetCellId`. */
export function freeze(deps: CellDeps, userId: string, request: FreezeRequest): Promise<Step> {
  return untilApplied(
    deps,
    userId,
    async (h) => {
      if (h.wallet) {
        const o = h.wallet.ownership;
        if (o.state === "frozen" && o.migrationId === request.migrationId)
          return ok(await currentStatus(deps.store, userId, true));
        if (o.state !== "active") return conflict(`cannot freeze: ${describeHolding(h)}`);
        if (request.epoch < o.epoch) {
          return conflict(`cannot freeze at epoch ${request.epoch}: this cell holds the wallet at epoch ${o.epoch}`);
        }
        const next = {
          state: "frozen" as const,
          epoch: request.epoch,
          migrationId: request.migrationId,
          peerCellId: request.targetCellId,
        };
        return (await deps.store.setWalletOwnership(h.wallet.walletId, { state: "active" }, next))
          ? "applied"
          : "retry";
      }
      if (h.fence) {
        if (h.fence.state === "frozen" && h.fence.migrationId === request.migrationId)
          return ok(await currentStatus(deps.store, userId, true));
        return conflict(`cannot freeze: ${describeHolding(h)}`);
      }
      const fence: UserFence = {
        userId,
        state: "frozen",
        epoch: request.epoch,
        migrationId: request.migrationId,
        targetCellId: request.targetCellId,
      };
      // Refused when a wallet was created meanwhile: then the wallet itself is frozen on the next attempt.
      return (await deps.store.setUserFence(userId, undefined, fence)) ? "applied" : "retry";
    },
    true,
  );
}

/** Source, rollback before the flip: active again at `epoch`. */
export function unfreeze(deps: CellDeps, userId: string, request: UnfreezeRequest): Promise<Step> {
  return untilApplied(deps, userId, async (h) => {
    if (h.wallet) {
      const o = h.wallet.ownership;
      if (o.state === "active") return ok(await currentStatus(deps.store, userId));
      if (o.state !== "frozen" || o.migrationId !== request.migrationId) {
        return conflict(`cannot unfreeze for migration ${request.migrationId}: ${describeHolding(h)}`);
      }
      const expected = { state: "frozen" as const, migrationId: request.migrationId };
      return (await deps.store.setWalletOwnership(h.wallet.walletId, expected, {
        state: "active",
        epoch: request.epoch,
      }))
        ? "applied"
        : "retry";
    }
    if (!h.fence) return ok(await currentStatus(deps.store, userId));
    if (h.fence.state !== "frozen" || h.fence.migrationId !== request.migrationId) {
      return conflict(`cannot unfreeze for migration ${request.migrationId}: ${describeHolding(h)}`);
    }
    return (await deps.store.setUserFence(userId, h.fence, undefined)) ? "applied" : "retry";
  });
}

/** Source, after the flip: read-only for audit; clients are sent to `targetCellId` (Wallet-Location). */
export function markMoved(deps: CellDeps, userId: string, request: MarkMovedRequest): Promise<Step> {
  return untilApplied(deps, userId, async (h) => {
    const done = (state: string, migrationId: string | undefined) =>
      state === "moved" && migrationId === request.migrationId;
    const frozenHere = (state: string, migrationId: string | undefined) =>
      state === "frozen" && migrationId === request.migrationId;
    if (h.wallet) {
      const o = h.wallet.ownership;
      if (done(o.state, o.migrationId)) return ok(await currentStatus(deps.store, userId));
      if (!frozenHere(o.state, o.migrationId))
        return conflict(`cannot mark moved (freeze first): ${describeHolding(h)}`);
      const next = {
        state: "moved" as const,
        epoch: request.epoch,
        migrationId: request.migrationId,
        peerCellId: request.targetCellId,
      };
      const expected = { state: "frozen" as const, migrationId: request.migrationId };
      return (await deps.store.setWalletOwnership(h.wallet.walletId, expected, next)) ? "applied" : "retry";
    }
    if (h.fence && done(h.fence.state, h.fence.migrationId)) return ok(await currentStatus(deps.store, userId));
    if (!h.fence || !frozenHere(h.fence.state, h.fence.migrationId)) {
      return conflict(`cannot mark moved (freeze first): ${describeHolding(h)}`);
    }
    const moved: UserFence = { ...h.fence, state: "moved", epoch: request.epoch, targetCellId: request.targetCellId };
    return (await deps.store.setUserFence(userId, h.fence, moved)) ? "applied" : "retry";
  });
}

/**
 * Target: verifies the whole copied chain (the cell's own wallet verification)
 * and that it ends at the source's frozen head, then owns the wallet at `epoch`.
 * A user without a wallet has nothing to verify (expectedVersion 0); a stale
 * `moved` fence of theirs here (an earlier move away) is lifted.
 */
export function activate(deps: CellDeps, userId: string, request: ActivateRequest): Promise<Step> {
  return untilApplied(deps, userId, async (h) => {
    if (!h.wallet) {
      if (request.expectedVersion !== 0) {
        return conflict(`nothing to activate: ${describeHolding(h)}, expected version ${request.expectedVersion}`);
      }
      if (h.fence?.state === "moved")
        return (await deps.store.setUserFence(userId, h.fence, undefined)) ? "applied" : "retry";
      if (h.fence) return conflict(`cannot activate: ${describeHolding(h)}`);
      return ok(await currentStatus(deps.store, userId));
    }
    const o = h.wallet.ownership;
    if (o.state === "active" && o.migrationId === request.migrationId && o.epoch === request.epoch) {
      return ok(await currentStatus(deps.store, userId));
    }
    if (o.state !== "importing" || o.migrationId !== request.migrationId) {
      return conflict(`cannot activate for migration ${request.migrationId}: ${describeHolding(h)}`);
    }
    const verdict = await verifyWallet(deps.store, h.wallet);
    if (!verdict.valid) {
      return conflict(
        `the copied chain does not verify at sequence ${verdict.firstInvalidSequence}: ${verdict.reason ?? "invalid"}`,
      );
    }
    if (h.wallet.version !== request.expectedVersion || h.wallet.headHash !== request.expectedHeadHash) {
      return conflict(
        `the copy ends at version ${h.wallet.version} (${h.wallet.headHash}), not at the source's frozen head ` +
          `${request.expectedVersion} (${request.expectedHeadHash}): copy the tail first`,
      );
    }
    const expected = { state: "importing" as const, migrationId: request.migrationId };
    const next = { state: "active" as const, epoch: request.epoch, migrationId: request.migrationId };
    return (await deps.store.setWalletOwnership(h.wallet.walletId, expected, next)) ? "applied" : "retry";
  });
}

/**
 * Target, rollback: the importing copy (or the copy this migration activated, before the flip) becomes
 * invisible; nothing is deleted. Never touches a copy owned otherwise.
 */
export function abandon(deps: CellDeps, userId: string, request: AbandonRequest): Promise<Step> {
  return untilApplied(deps, userId, async (h) => {
    if (!h.wallet) return ok(await currentStatus(deps.store, userId));
    const o = h.wallet.ownership;
    if (o.state === "abandoned") return ok(await currentStatus(deps.store, userId));
    // A copy this very migration activated may be taken back too (rollback before the flip: no router sends
    // anyone to it yet). Copies this cell owns otherwise (created here, or activated by another migration) never.
    const ours = (o.state === "importing" || o.state === "active") && o.migrationId === request.migrationId;
    if (!ours) return conflict(`cannot abandon for migration ${request.migrationId}: ${describeHolding(h)}`);
    const expected = { state: o.state, migrationId: request.migrationId };
    const next = { ...o, state: "abandoned" as const };
    return (await deps.store.setWalletOwnership(h.wallet.walletId, expected, next)) ? "applied" : "retry";
  });
}
