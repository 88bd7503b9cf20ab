import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform } from "../../e2e/test/platform.js";
import { token } from "../../test-support/tokens.js";
import { cellOperations, lossyProxy, platformStore, walletInCell, writeTokenFile } from "./platform-helpers.js";
import { runCellload } from "./run-cellload.js";

/**
 * cellload against the whole local platform (2 cells x 3 AZs, real processes):
 * the CI smoke run (journey through the router, low rate, generous thresholds,
 * --verify), a failed threshold (exit 99), --cell placing all traffic on one
 * cell (seen in the cells' own /metrics), and a deliberately broken target — a
 * proxy that acknowledges every 50th deposit without passing it on — that
 * --verify must catch.
 */

describe("cellload against the local platform", () => {
  let platform: LocalPlatform;
  let router: string;

  beforeAll(async () => {
    platform = await startTestPlatform();
    router = platform.routerUrl("az-1");
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("smoke: a journey run through the router passes generous thresholds and --verify, and writes its report", async () => {
    const out = mkdtempSync(join(tmpdir(), "cellload-out-"));
    const run = await runCellload([
      "run",
      "journey",
      "--target",
      router,
      "--rate",
      "4",
      "--duration",
      "3s",
      "--users",
      "6",
      "--warmup",
      "2s",
      "--verify",
      "--out",
      out,
      "--threshold",
      "http_req_failed:rate<0.01",
      "--threshold",
      "checks:rate>0.99",
      "--threshold",
      // Generous: the smoke checks that thresholds are judged and pass, not the latency (benchmarks measure it).
      // Latency counts from each iteration's intended start, so a stall of this process alone would add to it.
      "http_req_duration:p(99)<30000",
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/verify: PASS/);
    expect(run.stdout).toMatch(/result: PASS/);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.schema).toBe("cellload/summary@1");
    expect(summary.exitCode).toBe(0);
    expect(summary.crossCellSkipped).toBeNull(); // deposit has no cross-cell part
    // The 2 s warm-up (at 1/s) ran first: not in the figures, but its operations are in the verified books.
    expect(summary.executor.warmupMs).toBe(2000);
    expect(run.stderr).toMatch(/warming up for 2 s at 1\/s/);
    expect(summary.iterations.started).toBe(12);
    // Each journey: create, 3 deposits, a same-cell transfer, a cross-cell one (when a wallet elsewhere exists), 3 reads.
    expect(summary.byOp.map((o: { op: string }) => o.op)).toEqual([
      "audit",
      "create-wallet",
      "deposit",
      "historical-balance",
      "history",
      "transfer",
    ]);
    expect(summary.byOp.find((o: { op: string }) => o.op === "deposit").count).toBe(36);
    expect(summary.verify.pass).toBe(true);
    expect(summary.timeline.length).toBeGreaterThan(0);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toMatch(/uPlot/);
    expect(html).toContain('id="cellload-data"');
    expect(html).not.toMatch(/<script[^>]+src=/);
  }, 90_000);

  it("exits 99 when a threshold fails", async () => {
    const run = await runCellload([
      "run",
      "deposit",
      "--target",
      router,
      "--rate",
      "5",
      "--duration",
      "1s",
      "--users",
      "2",
      "--threshold",
      "http_req_duration:p(99)<0.001",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(99);
    const summary = JSON.parse(run.stdout);
    expect(summary.thresholds).toEqual([
      { threshold: "http_req_duration:p(99)<0.001", actual: expect.any(Number), ok: false },
    ]);
    expect(summary.verify.pass).toBe(true);
  }, 60_000);

  it("runs a user's own scenario module given by path (the README's example)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cellload-scenario-")), "balance-poll.mjs");
    writeFileSync(
      file,
      `export const scenario = {
  name: "balance-poll",
  description: "owners poll their balance",
  money: false,
  async iteration(ctx, it) {
    const vu = ctx.vus[Math.floor(ctx.random() * ctx.vus.length)];
    await it.request({ op: "get-wallet", method: "GET", path: \`/api/v1/wallets/\${vu.walletId}\`, token: vu.token, cell: vu.cellId });
  },
};
`,
    );
    const run = await runCellload([
      "run",
      file,
      "--target",
      router,
      "--rate",
      "10",
      "--duration",
      "1s",
      "--users",
      "2",
      "--json",
      "--threshold",
      "checks:rate==1",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.scenario).toBe("balance-poll");
    expect(summary.byOp).toEqual([expect.objectContaining({ op: "get-wallet", count: 10, failed: 0 })]);
    expect(summary.verify).toBeNull();
  }, 60_000);

  it("--abort-on-fail stops a failing run early (exit 99, aborted)", async () => {
    const started = Date.now();
    const run = await runCellload([
      "run",
      "deposit",
      "--target",
      router,
      "--rate",
      "5",
      "--duration",
      "60s",
      "--users",
      "2",
      "--abort-on-fail",
      "--threshold",
      "http_req_duration:p(99)<0.001",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(99);
    expect(Date.now() - started).toBeLessThan(40_000);
    const summary = JSON.parse(run.stdout);
    expect(summary.aborted).toBe(true);
    expect(summary.elapsedSeconds).toBeLessThan(20);
  }, 60_000);

  it("uses an identity provider's tokens from --token-file, and refuses scenarios that need new users with them", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cellload-tokens-")), "tokens.json");
    const users = ["idp-user-1", "idp-user-2", "idp-user-3"];
    writeFileSync(
      file,
      JSON.stringify({
        operator: await token("idp-operator", "wallet:operator wallet:auditor"),
        users: Object.fromEntries(await Promise.all(users.map(async (u) => [u, await token(u)]))),
      }),
    );
    // Twice: the second run finds the wallets already there and takes their balances into its books.
    for (let i = 0; i < 2; i++) {
      const run = await runCellload([
        "run",
        "mixed",
        "--target",
        router,
        "--token-file",
        file,
        "--rate",
        "10",
        "--duration",
        "1s",
        "--json",
        "--threshold",
        "http_req_failed:rate<0.01",
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).verify.pass).toBe(true);
    }
    const journey = await runCellload(["run", "journey", "--target", router, "--token-file", file]);
    expect(journey.code).toBe(2);
    expect(journey.stderr).toBe(
      "cellload: journey onboards new users: it needs minted tokens (WALLET_JWT_SECRET), not --token-file\n",
    );
  }, 60_000);

  it("--cell cell-2 puts all of the run's traffic on cell-2: its /metrics move, cell-1's do not", async () => {
    const before = { c1: await cellOperations(platform, "cell-1"), c2: await cellOperations(platform, "cell-2") };
    const run = await runCellload(
      [
        "run",
        "deposit",
        "--target",
        router,
        "--cell",
        "cell-2",
        "--rate",
        "10",
        "--duration",
        "2s",
        "--users",
        "4",
        "--json",
        "--threshold",
        "http_req_failed:rate<0.01",
      ],
      { PLACEMENT_SQLITE_PATH: platform.placementPath },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.byCell.map((c: { cell: string }) => c.cell)).toEqual(["cell-2"]);
    const after = { c1: await cellOperations(platform, "cell-1"), c2: await cellOperations(platform, "cell-2") };
    expect(after.c1).toBe(before.c1);
    // 4 wallets created, 4 seeds, 20 deposits (and the books check's reads are not wallet operations).
    expect(after.c2 - before.c2).toBeGreaterThanOrEqual(24);
  }, 60_000);

  it("--cell with a token file, as the deploy gate calls it: counterparties are the file's users in other cells, or the cross-cell part is skipped and said", async () => {
    const env = { PLACEMENT_SQLITE_PATH: platform.placementPath };
    const common = [
      "--duration",
      "1s",
      "--json",
      "--threshold",
      "http_req_failed:rate<0.01",
      "--threshold",
      "checks:rate==1",
    ];
    // The gate's shape: the file holds only the cell's own smoke users.
    const own = await writeTokenFile(["gate-c2-a", "gate-c2-b"]);
    const gate = await runCellload(
      ["run", "mixed", "--target", router, "--cell", "cell-2", "--token-file", own, "--rate", "10", ...common],
      env,
    );
    expect(gate.code, gate.stderr).toBe(0);
    const summary = JSON.parse(gate.stdout);
    expect(summary.crossCellSkipped).toBe("the token file names no user whose wallet is in a cell other than cell-2");
    expect(summary.byCell.map((c: { cell: string }) => c.cell)).toEqual(["cell-2"]);
    expect(summary.iterationErrors).toEqual({});
    expect(summary.verify.pass).toBe(true);

    // A user of the file whose wallet is in cell-1 is the counterparty, and stays in cell-1.
    await walletInCell(platform, "gate-c1-x", "cell-1");
    const withOther = await writeTokenFile(["gate-c2-a", "gate-c2-b", "gate-c1-x"]);
    const cross = await runCellload(
      [
        "run",
        "transfer-cross-cell",
        "--target",
        router,
        "--cell",
        "cell-2",
        "--token-file",
        withOther,
        "--rate",
        "5",
        ...common,
      ],
      env,
    );
    expect(cross.code, cross.stderr).toBe(0);
    const crossSummary = JSON.parse(cross.stdout);
    expect(crossSummary.crossCellSkipped).toBeNull();
    expect(crossSummary.byOp).toEqual([expect.objectContaining({ op: "transfer", count: 5, failed: 0 })]);
    expect(crossSummary.verify.pass).toBe(true);

    // Required and impossible: refused up front (exit 2, one line), before any override is written.
    const fresh = await writeTokenFile(["gate-new-a", "gate-new-b"]);
    const refused = await runCellload(
      ["run", "transfer-cross-cell", "--target", router, "--cell", "cell-2", "--token-file", fresh, ...common],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      "cellload: transfer-cross-cell needs a wallet in another cell: the token file names no user whose wallet is in a cell other than cell-2\n",
    );
    const store = platformStore(platform);
    try {
      expect(await store.getOverride("gate-new-a")).toBeUndefined();
      expect((await store.getUserPlacement("gate-c1-x"))?.cellId).toBe("cell-1");
    } finally {
      await store.close();
    }
  }, 60_000);

  it("mixed against a cell's replica skips its cross-cell share (said) instead of throwing in iterations", async () => {
    const run = await runCellload([
      "run",
      "mixed",
      "--target",
      platform.cellUrl("cell-1", "az-1"),
      "--rate",
      "20",
      "--duration",
      "1s",
      "--users",
      "4",
      "--json",
      "--threshold",
      "checks:rate==1",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.iterationErrors).toEqual({});
    expect(summary.crossCellSkipped).toBe("the target is one cell's replica (target a router to cross cells)");
    expect(summary.iterations.started).toBe(20);
  }, 60_000);

  it("capacity: steps the rate up to --max-rate while the SLO holds, reports the curve; exit 99 when nothing holds", async () => {
    const out = mkdtempSync(join(tmpdir(), "cellload-capacity-"));
    const env = { PLACEMENT_SQLITE_PATH: platform.placementPath };
    const common = [
      "capacity",
      "--target",
      router,
      "--cell",
      "cell-1",
      "--scenario",
      "deposit",
      "--users",
      "4",
      "--start",
      "5",
      "--factor",
      "2",
      "--max-rate",
      "10",
      "--step-duration",
      "1s",
      "--refine",
      "0",
      "--json",
    ];
    const held = await runCellload([...common, "--slo", "p(99)<10000", "--max-error", "0.5", "--out", out], env);
    expect(held.code, held.stderr).toBe(0);
    const summary = JSON.parse(held.stdout);
    // Every step held up to --max-rate: 10/s is a lower bound, flagged, and not offered for recording.
    expect(summary).toMatchObject({ schema: "cellload/capacity@1", cell: "cell-1", maxRate: 10, found: false });
    expect(summary.exitCode).toBe(0);
    expect(summary.steps.map((s: { rate: number; held: boolean }) => [s.rate, s.held])).toEqual([
      [5, true],
      [10, true],
    ]);
    // The measured rate of the highest step that held (not "> 5": a stall during the 1 s step stretches it).
    expect(summary.maxOpsPerSecond).toBeGreaterThan(0);
    expect(summary.maxOpsPerSecond).toBe(summary.steps[1].achievedPerSecond);
    expect(summary.verify.pass).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "capacity.json"), "utf8")).maxRate).toBe(10);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("Latency against offered rate");

    const broke = await runCellload([...common, "--slo", "p(99)<0.001"], env);
    expect(broke.code, broke.stderr).toBe(99);
    expect(JSON.parse(broke.stdout)).toMatchObject({
      maxRate: null,
      maxOpsPerSecond: null,
      steps: [{ rate: 5, held: false }],
    });
  }, 60_000);

  it("--verify fails (exit 1, outranking a failed threshold) against a target that silently loses every 50th deposit", async () => {
    const proxy = await lossyProxy(router);
    try {
      const run = await runCellload([
        "run",
        "deposit",
        "--target",
        proxy.url,
        "--rate",
        "40",
        "--duration",
        "2s",
        "--users",
        "5",
        "--threshold",
        "http_req_failed:rate<0.01",
        // A threshold that always fails: wrong books must still be reported as exit 1, not 99.
        "--threshold",
        "iterations:count<1",
      ]);
      expect(proxy.swallowed()).toBeGreaterThanOrEqual(1);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toMatch(/verify: FAIL/);
      expect(run.stdout).toMatch(/MISMATCH/);
      expect(run.stdout).toMatch(/result: FAIL \(verify\)/);
    } finally {
      await new Promise((r) => proxy.server.close(r));
    }
  }, 60_000);
});
