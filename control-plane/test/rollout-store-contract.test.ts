/**
 * One contract, both rollout stores (SQLite, DynamoDB on moto): conditional
 * writes keep one controller per rollout and one active rollout at a time.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dynamoClient } from "../../test-support/stores.js";
import { DynamoDbRolloutStore, ensureRolloutTable } from "../src/rollout/dynamodb-rollout-store.js";
import { parsePlan, planSteps } from "../src/rollout/rollout-plan.js";
import { claimController, newRollout, type Rollout, requestAbort, requestPause } from "../src/rollout/rollout-state.js";
import { type RolloutStore, updateRollout } from "../src/rollout/rollout-store.js";
import { SqliteRolloutStore } from "../src/rollout/sqlite-rollout-store.js";

const motoEndpoint = inject("motoEndpoint");
const cells = new Map([["cell-1", ["az-1", "az-2"]]]);
const parsed = parsePlan({ version: "v2" }, cells);
if (!parsed.ok) throw new Error("plan");
const plan = parsed.plan;
let n = 0;
const rollout = (nowMs = Date.now()): Rollout => {
  n += 1;
  return newRollout({
    rolloutId: `r-${nowMs}-${n}`,
    driver: "local",
    plan,
    steps: planSteps(plan, cells),
    startedBy: "ops",
    nowMs,
  });
};

const client = dynamoClient(motoEndpoint);
afterAll(() => client.destroy());

describe.each(["sqlite", "dynamodb"] as const)("RolloutStore contract on %s", (adapter) => {
  let store: RolloutStore;
  let open: () => RolloutStore;

  beforeAll(async () => {
    if (adapter === "sqlite") {
      const path = join(mkdtempSync(join(tmpdir(), "cellwallet-rollouts-")), "rollouts.sqlite");
      open = () => new SqliteRolloutStore(path);
    } else {
      const prefix = `ro${process.pid.toString(36)}${Date.now().toString(36)}`;
      await ensureRolloutTable(client, prefix);
      open = () => new DynamoDbRolloutStore(client, prefix);
    }
    store = open();
  });

  afterAll(async () => {
    await store?.close();
  });

  it("one active rollout: a second is refused until the first is terminal", async () => {
    const first = await store.create(rollout(1000));
    expect(first.ok).toBe(true);
    const second = rollout(2000);
    expect(await store.create(second)).toEqual({ ok: false, activeRolloutId: first.ok ? first.rollout.rolloutId : "" });
    expect((await store.active())?.rolloutId).toBe(first.ok ? first.rollout.rolloutId : "");
    if (!first.ok) return;
    const done = await store.save({ ...first.rollout, status: "completed" });
    expect(done.ok).toBe(true);
    expect(await store.active()).toBeUndefined();
    const again = await store.create(second);
    expect(again.ok).toBe(true);
    expect((await store.list(10)).map((r) => r.rolloutId)).toEqual([second.rolloutId, first.rollout.rolloutId]);
    if (again.ok) await store.save({ ...again.rollout, status: "aborted" });
  });

  it("writes are conditional on the revision: a stale writer gets a conflict and changes nothing", async () => {
    const created = await store.create(rollout());
    if (!created.ok) throw new Error("not created");
    const a = await store.save({ ...created.rollout, reason: "a" });
    expect(a.ok && a.rollout.revision).toBe(2);
    const stale = await store.save({ ...created.rollout, reason: "b" });
    expect(stale).toEqual({ ok: false, conflict: true });
    expect((await store.get(created.rollout.rolloutId))?.reason).toBe("a");
    await store.save({ ...(a.ok ? a.rollout : created.rollout), status: "completed" });
  });

  it("two controllers racing for one rollout: exactly one wins; intents from many processes all land", async () => {
    const created = await store.create(rollout());
    if (!created.ok) throw new Error("not created");
    const id = created.rollout.rolloutId;
    const stores = [open(), open(), open(), open()];
    const claims = await Promise.all(
      stores.map((s, i) => updateRollout(s, id, (r) => claimController(r, `controller-${i}`, Date.now(), 60_000))),
    );
    expect(claims.filter((c) => c.ok)).toHaveLength(1);
    expect(claims.filter((c) => !c.ok).every((c) => !c.ok && /another controller/.test(c.refusal))).toBe(true);
    // A pause and an abort written concurrently by two operators: both recorded, in some order.
    const [pause, abort] = await Promise.all([
      updateRollout(stores[0] as RolloutStore, id, (r) => requestPause(r, "alice", Date.now())),
      updateRollout(stores[1] as RolloutStore, id, (r) => requestAbort(r, "bob", Date.now())),
    ]);
    expect(abort.ok).toBe(true);
    const final = await store.get(id);
    expect(final?.intent).toBe("abort");
    expect(final?.events.some((e) => e.type === "intent.abort")).toBe(true);
    expect(pause.ok ? final?.events.some((e) => e.type === "intent.pause") : true).toBe(true);
    for (const s of stores) await s.close();
    if (final) await store.save({ ...final, status: "aborted" });
  });
});
