import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform } from "../../e2e/test/platform.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";

describe("cellctl canary run (a process against the local platform)", () => {
  let platform: LocalPlatform;
  let env: Record<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    env = { PLACEMENT_SQLITE_PATH: platform.placementPath, CELLCTL_OPERATOR: "canary-test" };
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const run = (...args: string[]) =>
    runCellctl(["canary", "run", "--router", platform.routerUrl("az-2"), ...args], env);

  it("runs the journey once in every cell, with canary users pinned to their cell", async () => {
    for (let i = 0; i < 2; i++) {
      const result = await run("--all", "--once", "--json");
      expect(result.code, result.stderr).toBe(0);
      const { journeys } = JSON.parse(result.stdout) as {
        journeys: { cellId: string; ok: boolean; steps: { step: string; ok: boolean }[] }[];
      };
      expect(journeys.map((j) => [j.cellId, j.ok])).toEqual([
        ["cell-1", true],
        ["cell-2", true],
      ]);
      expect(journeys[0]?.steps.map((s) => s.step)).toEqual([
        "create-wallets",
        "deposit",
        "transfer",
        "history",
        "historical-balance",
        "audit",
      ]);
    }
    const placement = platform.openPlacementStore();
    try {
      for (const cell of ["cell-1", "cell-2"]) {
        for (const user of [`canary-${cell}-a`, `canary-${cell}-b`]) {
          expect(await placement.getOverride(user)).toBe(cell);
          expect((await placement.getUserPlacement(user))?.cellId).toBe(cell);
        }
      }
    } finally {
      await placement.close();
    }
  }, 60_000);

  it("keeps canary money in the canary wallets: two cents deposited, two moved, books reconcile exactly", async () => {
    const api = platform.routerUrl("az-1");
    for (const cell of ["cell-1", "cell-2"]) {
      const balance = async (user: string) => {
        const t = await token(user);
        const list = await http(api, "GET", `/api/v1/wallets?userId=${user}`, { token: t });
        expect(list.status).toBe(200);
        return list.body.items[0].balance as string;
      };
      expect(await balance(`canary-${cell}-a`)).toBe("0.00");
      expect(await balance(`canary-${cell}-b`)).toBe("0.02");
    }
    const reconcile = await runCellctl(["reconcile", "--all", "--json"], env);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
    const verify = await runCellctl(["verify", "--all", "--json"], env);
    expect(verify.code, verify.stderr).toBe(0);
  }, 60_000);

  it("answers bad usage with one line and exit 2, and a failed journey with exit 1", async () => {
    const neither = await run("--once");
    expect(neither.code).toBe(2);
    expect(neither.stderr.trim().split("\n")).toHaveLength(1);
    expect(neither.stderr).toContain("--cell <id> or --all");
    const unknown = await run("--cell", "cell-9", "--once");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown cell cell-9");
    const interval = await run("--all", "--interval", "soon");
    expect(interval.code).toBe(2);
    // A registry with no cell (a wrong WALLET_DATA_DIR or PLACEMENT_SQLITE_PATH): not "all passed".
    const emptyRegistry = join(mkdtempSync(join(tmpdir(), "cellwallet-canary-")), "placement.sqlite");
    await new SqlitePlacementStore({ path: emptyRegistry }).close(); // one that exists (a missing one is refused)
    const none = await runCellctl(["canary", "run", "--all", "--once"], {
      ...env,
      PLACEMENT_SQLITE_PATH: emptyRegistry,
    });
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toContain("no cell to test");
    // A router that does not answer: every journey fails at its first step.
    const down = await runCellctl(["canary", "run", "--all", "--once", "--router", "http://127.0.0.1:9"], env);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain("cell-1: FAILED (create-wallets:");
  }, 60_000);
});
