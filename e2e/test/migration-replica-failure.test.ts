import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { cellctl, locateUser, seedUser, sleep } from "./migration-support.js";
import { startTestPlatform } from "./platform.js";

/**
 * A cell replica SIGKILLed while `cellctl users migrate` runs: cellctl finishes
 * through the cells' other AZ replicas. And what cellctl refuses: a rollback
 * after the flip, a second migration of a user being moved, a resume with
 * nothing to resume, and the test-only fault hook in production mode.
 */
describe("migration under replica failure, and refusals", () => {
  let platform: LocalPlatform;
  let env: Record<string, string>;
  let ops: string;
  let api: string;
  const walletOf = new Map<string, string>();

  /** A user in cell-1 with a wallet and a few deposits (3.00 in all). */
  async function userInCell1(userId: string, deposits = 3): Promise<string> {
    const walletId = await seedUser(platform, api, ops, userId, "cell-1", deposits);
    walletOf.set(userId, walletId);
    return walletId;
  }

  const locate = (userId: string) => locateUser(userId, env);

  beforeAll(async () => {
    platform = await startTestPlatform();
    env = { PLACEMENT_SQLITE_PATH: platform.placementPath, CELLCTL_OPERATOR: "e2e" };
    ops = await token("ops", "wallet:operator");
    api = platform.routerUrl("az-1");
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("finishes through another AZ when a replica of each cell is SIGKILLed mid-migration", async () => {
    const userId = "replica-killed";
    const walletId = await userInCell1(userId, 120);
    const run = cellctl(["users", "migrate", userId, "--to", "cell-2", "--yes", "--json"], {
      ...env,
      // One entry a page: 120 pages, so the clone lasts long enough that this process, polling the store, still
      // finds it under way after a stall on a loaded machine.
      CELLCTL_EXPORT_PAGE_SIZE: "1",
    });
    // Kill the replicas cellctl tries first (az-1 of both cells) while the clone is copying pages.
    const store = platform.openPlacementStore();
    let killedAt: string | undefined;
    try {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && killedAt === undefined; ) {
        const m = await store.activeMigration(userId);
        if (m?.cursor) {
          killedAt = m.step;
          await Promise.all([
            platform.stopProcess(platform.find("cell-1/az-1"), "SIGKILL"),
            platform.stopProcess(platform.find("cell-2/az-1"), "SIGKILL"),
          ]);
        } else await sleep(5);
      }
    } finally {
      await store.close();
    }
    const done = await run;
    expect(killedAt).toBe("planned"); // the kill landed mid-clone
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).migration).toMatchObject({ state: "completed" });
    // It did meet the dead replicas, and went on through the other AZs.
    expect(done.stderr).toMatch(/replica http:\/\/127\.0\.0\.1:\d+ failed .*trying another AZ/);
    await Promise.all([
      platform.startProcess(platform.find("cell-1/az-1")),
      platform.startProcess(platform.find("cell-2/az-1")),
    ]);
    expect(await locate(userId)).toMatchObject({
      placement: { cellId: "cell-2", epoch: 2 },
      wallet: { state: "active", walletId, balance: "120.00", version: 120 },
    });
    expect((await http(api, "GET", `/api/v1/wallets/${walletId}/audit`, { token: ops })).body).toMatchObject({
      valid: true,
      entries: 120,
    });
  }, 90_000);

  it("refuses --rollback after the flip, a second migration of the same user, a second driver, and a resume with nothing to resume", async () => {
    const userId = "past-flip";
    await userInCell1(userId, 1);
    const crashed = await cellctl(["users", "migrate", userId, "--to", "cell-2", "--yes"], {
      ...env,
      CELLCTL_FAULT_AFTER_STEP: "flipped",
    });
    expect(crashed.code).toBeNull();
    const refused = await cellctl(["users", "migrate", userId, "--rollback"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/only --resume/);
    const second = await cellctl(["users", "migrate", userId, "--to", "cell-1", "--yes"], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already being migrated/);
    // Two operators resume at once: the conditional steps let exactly one of them finish it.
    const both = await Promise.all([
      cellctl(["users", "migrate", userId, "--resume", "--json"], env),
      cellctl(["users", "migrate", userId, "--resume", "--json"], env),
    ]);
    expect(both.map((r) => r.code).sort()).toEqual([0, 1]);
    const loser = both.find((r) => r.code === 1);
    expect(loser?.stdout + (loser?.stderr ?? "")).toMatch(
      /moved on by another cellctl|no migration of past-flip in progress/,
    );
    const nothing = await cellctl(["users", "migrate", userId, "--resume"], env);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/no migration of past-flip in progress/);
    // Cells refuse a service token signed with the wrong secret: nothing is planned.
    const wrongSecret = await cellctl(["users", "migrate", userId, "--to", "cell-1", "--yes"], {
      ...env,
      CELL_INTERNAL_SECRET: "not-the-secret-the-cells-use-at-all",
    });
    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.stdout + wrongSecret.stderr).toMatch(/HTTP 401|HTTP 403/);
    const store = platform.openPlacementStore();
    expect(await store.activeMigration(userId)).toBeUndefined();
    await store.close();
    // The fault hook is test-only: production mode refuses it.
    const production = await cellctl(["users", "migrate", userId, "--to", "cell-1", "--yes"], {
      ...env,
      WALLET_MODE: "production",
      CELL_INTERNAL_SECRET: "a-production-secret-of-at-least-32-characters",
      CELLCTL_FAULT_AFTER_STEP: "frozen",
    });
    expect(production.code).toBe(2);
    expect(production.stderr).toMatch(/test-only fault hook/);
  }, 60_000);
});
