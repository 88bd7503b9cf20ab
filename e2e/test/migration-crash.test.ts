import type { LocalPlatform } from "@cellwallet/control-plane/local";
import type { MigrationStep } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { cellctl, locateUser, seedUser } from "./migration-support.js";
import { startTestPlatform } from "./platform.js";

/**
 * Crashes during `cellctl users migrate`: the CLI killed (SIGKILL, through the
 * test-only CELLCTL_FAULT_AFTER_STEP hook) right after each persisted step, then
 * `--resume` finishes the move, and, for every step before the flip,
 * `--rollback` gives the user back to the source as its writable owner. Then a
 * cell replica SIGKILLed while a migration runs: cellctl finishes through the
 * cell's other AZs.
 */
const STEPS: MigrationStep[] = ["planned", "cloned", "frozen", "settled", "tail-copied", "activated", "flipped"];
const BEFORE_FLIP = STEPS.slice(0, STEPS.indexOf("flipped"));

describe("migration crashes, resumes and rollbacks", () => {
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

  /** Placement and migration from the registry, wallet from the router: what locate shows, without a process. */
  const stateOf = async (userId: string) => {
    const store = platform.openPlacementStore();
    try {
      const placement = await store.getUserPlacement(userId);
      const migration = (await store.activeMigration(userId)) ?? null;
      const wallet = await http(api, "GET", `/api/v1/wallets/${walletOf.get(userId)}`, { token: ops });
      return { placement, migration, wallet: { status: wallet.status, ...wallet.body } };
    } finally {
      await store.close();
    }
  };

  const deposit = (walletId: string, key: string) =>
    http(api, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: ops,
      idempotencyKey: key,
      body: { amount: "1.00" },
    });

  /** Runs `work` for each item, at most `n` at a time (the machine has 2 cores). */
  async function limited<T>(items: T[], n: number, work: (item: T) => Promise<void>) {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: n }, async () => {
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
      }),
    );
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    env = { PLACEMENT_SQLITE_PATH: platform.placementPath, CELLCTL_OPERATOR: "e2e" };
    ops = await token("ops", "wallet:operator");
    api = platform.routerUrl("az-1");
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("resumes a migration killed after each step, to completion", async () => {
    await limited(STEPS, 3, async (step) => {
      const userId = `resume-${step}`;
      const walletId = await userInCell1(userId);
      const crashed = await cellctl(["users", "migrate", userId, "--to", "cell-2", "--yes"], {
        ...env,
        CELLCTL_FAULT_AFTER_STEP: step,
      });
      expect(crashed.code, `${step}: ${crashed.stdout}${crashed.stderr}`).toBeNull(); // killed by SIGKILL
      const during = await stateOf(userId);
      expect(during.migration).toMatchObject({ step, state: "running" });
      if (step !== "planned" && step !== "cloned" && step !== "flipped") {
        // Fenced: the user's writes are paused (503 + Retry-After), never applied in either cell.
        const paused = await deposit(walletId, `${userId}-during`);
        expect(paused.status, `${step}: ${paused.text}`).toBe(503);
        expect(paused.headers.get("retry-after")).toBe("1");
      }
      if (step === "flipped") {
        // After the flip the target owns the wallet: a router that read the relocation already writes there,
        // one still holding the old answer meets the frozen source (503). Either way, once.
        const either = await deposit(walletId, `${userId}-during`);
        expect([201, 503], `${step}: ${either.text}`).toContain(either.status);
      }
      const resumed = await cellctl(["users", "migrate", userId, "--resume", "--json"], env);
      expect(resumed.code, `${step}: ${resumed.stdout}${resumed.stderr}`).toBe(0);
      expect(JSON.parse(resumed.stdout).migration).toMatchObject({ state: "completed", step: "moved" });
      expect(await stateOf(userId)).toMatchObject({
        placement: { cellId: "cell-2", epoch: 2 },
        wallet: { status: 200, walletId, balance: "3.00" },
        migration: null,
      });
      // The target is the writable owner; a retried key from the pause is applied once, now.
      const retried = await deposit(walletId, `${userId}-during`);
      expect(retried.status).toBe(201);
      const wallet = await http(api, "GET", `/api/v1/wallets/${walletId}`, { token: ops });
      expect(wallet.body).toMatchObject({ balance: "4.00", version: 4 });
      expect((await http(api, "GET", `/api/v1/wallets/${walletId}/audit`, { token: ops })).body.valid).toBe(true);
    });
  }, 120_000);
  it("rolls back a migration killed at any step before the flip: the source is the writable owner again", async () => {
    await limited(BEFORE_FLIP, 3, async (step) => {
      const userId = `rollback-${step}`;
      const walletId = await userInCell1(userId);
      const crashed = await cellctl(["users", "migrate", userId, "--to", "cell-2", "--yes"], {
        ...env,
        CELLCTL_FAULT_AFTER_STEP: step,
      });
      expect(crashed.code, `${step}: ${crashed.stdout}${crashed.stderr}`).toBeNull();
      const rolled = await cellctl(["users", "migrate", userId, "--rollback", "--json"], env);
      expect(rolled.code, `${step}: ${rolled.stdout}${rolled.stderr}`).toBe(0);
      expect(JSON.parse(rolled.stdout).migration).toMatchObject({ state: "rolled-back", step });
      expect(await stateOf(userId)).toMatchObject({
        placement: { cellId: "cell-1", epoch: 1 },
        wallet: { status: 200, walletId, balance: "3.00" },
        migration: null,
      });
      const d = await deposit(walletId, `${userId}-after`);
      expect(d.status, `${step}: ${d.text}`).toBe(201);
      // The target's abandoned copy is invisible and takes nothing.
      const target = `http://127.0.0.1:${platform.find("cell-2/az-1").port}`;
      const direct = await http(target, "POST", `/api/v1/wallets/${walletId}/deposit`, {
        token: ops,
        body: { amount: "1.00" },
      });
      expect([404, 503], `${step}: ${direct.text}`).toContain(direct.status);
      expect((await http(api, "GET", `/api/v1/wallets/${walletId}`, { token: ops })).body.balance).toBe("4.00");
      // Past the flip there is no rollback.
    });
    // A rolled-back user can be moved again later (the target continues from its stored prefix).
    const again = await cellctl(["users", "migrate", "rollback-activated", "--to", "cell-2", "--yes", "--json"], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await locate("rollback-activated")).wallet).toMatchObject({ state: "active", balance: "4.00" });
  }, 120_000);
});
