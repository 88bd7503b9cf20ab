import { DEVELOPMENT_INTERNAL_SECRET, MIGRATION_PATH_PREFIX, mintToken } from "@cellwallet/contract";
import { expect } from "vitest";
import { type HttpResult, http } from "../../../test-support/http.js";

/**
 * The control plane's side of a migration as plain HTTP calls on the cells'
 * internal endpoints (the real orchestrator lives in control-plane/): clone while
 * live, freeze, settle, copy the tail, activate, mark moved.
 */
export interface MigrationCell {
  id: string;
  url: string;
}

export const serviceToken = () =>
  mintToken({ sub: "cellctl", scopes: ["wallet:internal"], secret: DEVELOPMENT_INTERNAL_SECRET });

export function internalCall(service: string) {
  return (url: string, method: string, path: string, body?: unknown): Promise<HttpResult> =>
    http(url, method, `${MIGRATION_PATH_PREFIX}/${path}`, { token: service, ...(body !== undefined ? { body } : {}) });
}

export async function migrateUser(
  service: string,
  userId: string,
  source: MigrationCell,
  target: MigrationCell,
  fromEpoch: number,
  migrationId: string,
  options: {
    pageLimit?: number;
    cloneBudgetMs?: number;
    /** Runs between the clone and the freeze (writes that only the tail copy carries). */
    afterClone?: () => Promise<void>;
  } = {},
) {
  const internal = internalCall(service);
  const toEpoch = fromEpoch + 1;
  const copy = async (cursor?: string, budgetMs = Number.POSITIVE_INFINITY): Promise<string> => {
    const started = performance.now();
    let next: string | undefined = cursor;
    let tail = "";
    do {
      const query = `limit=${options.pageLimit ?? 200}${next ? `&cursor=${next}` : ""}`;
      const page = await internal(source.url, "GET", `${userId}/export?${query}`);
      expect(page.status, page.text).toBe(200);
      const imported = await internal(target.url, "POST", `${userId}/import`, {
        migrationId,
        epoch: toEpoch,
        sourceCellId: source.id,
        items: page.body.items,
      });
      expect(imported.status, imported.text).toBe(200);
      next = page.body.nextCursor;
      tail = page.body.tailCursor;
      // A live wallet keeps growing: the clone stops after its budget; the tail copy (frozen) finishes it.
    } while (next && performance.now() - started < budgetMs);
    return tail;
  };
  const tail = await copy(undefined, options.cloneBudgetMs);
  await options.afterClone?.();
  const frozen = await internal(source.url, "POST", `${userId}/freeze`, {
    migrationId,
    epoch: fromEpoch,
    targetCellId: target.id,
  });
  expect(frozen.status, frozen.text).toBe(200);
  const frozenAt = performance.now();
  const settled = await internal(source.url, "POST", `${userId}/settle`, { migrationId });
  expect(settled.body.pendingTransfers ?? 0).toBe(0);
  await copy(tail);
  const head = (await internal(source.url, "GET", userId)).body;
  const activated = await internal(target.url, "POST", `${userId}/activate`, {
    migrationId,
    epoch: toEpoch,
    expectedVersion: head.version ?? 0,
    expectedHeadHash: head.headHash ?? "0".repeat(64),
  });
  expect(activated.status, activated.text).toBe(200);
  const moved = await internal(source.url, "POST", `${userId}/moved`, {
    migrationId,
    epoch: toEpoch,
    targetCellId: target.id,
  });
  expect(moved.body).toMatchObject({ state: "moved", movedTo: target.id });
  return { head, activated: activated.body, writePauseMs: performance.now() - frozenAt };
}
