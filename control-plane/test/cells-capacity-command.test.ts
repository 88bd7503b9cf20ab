/**
 * `cellctl cells set-capacity` and the capacity lines of `cells describe` / `cells list`, as operators run
 * them: real cellctl processes against a temporary SQLite registry and a real cell process whose /metrics
 * count the deposits a background client makes while describe samples.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";

/**
 * Deposits back to back from a process of their own: the rates below are sampled over 0.5-1 s windows (list's is
 * fixed at 500 ms), and a load sent from this test's process would stop whenever a loaded machine stalls it.
 */
const LOAD = `
const [url, token] = process.argv.slice(1);
const headers = { authorization: "Bearer " + token, "content-type": "application/json" };
(async () => {
  for (;;) await fetch(url, { method: "POST", headers, body: '{"amount":"1.00"}' }).then((r) => r.arrayBuffer(), () => {});
})();
`;

const dir = mkdtempSync(join(tmpdir(), "cellwallet-cells-capacity-"));
const registryPath = join(dir, "placement.sqlite");
const cellctl = (args: string[]) =>
  runCellctl(args, { PLACEMENT_SQLITE_PATH: registryPath, CELLCTL_OPERATOR: "op-test" });

describe("cellctl cells set-capacity", () => {
  let cell: CellProcess;

  beforeAll(async () => {
    cell = await startCellProcess({
      WALLET_STORE: "sqlite",
      WALLET_SQLITE_PATH: join(dir, "cell.sqlite"),
      WALLET_JWT_SECRET: "",
    });
    const reg = await cellctl(["cells", "register", "cell-1", "--capacity", "100", "--endpoint", `az-1=${cell.url}`]);
    expect(reg.code, reg.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await cell?.stop();
  });

  it("refuses bad input with one line and exit 2, and changes nothing", async () => {
    for (const args of [
      ["cells", "set-capacity", "cell-1"],
      ["cells", "set-capacity", "cell-1", "--max-tps", "0"],
      ["cells", "set-capacity", "cell-1", "--max-tps", "-3"],
      ["cells", "set-capacity", "cell-1", "--max-tps", "1.5"],
      ["cells", "set-capacity", "cell-1", "--max-tps", "10", "--clear"],
      ["cells", "set-capacity", "cell-9", "--max-tps", "10"],
    ]) {
      const run = await cellctl(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n")[0]).toMatch(
        /^cellctl: (give either|option '--max-tps <n>' argument '[^']*' is invalid|unknown cell)/,
      );
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const store = new SqlitePlacementStore({ path: registryPath });
    expect((await store.getCell("cell-1"))?.maxOpsPerSecond).toBeUndefined();
    await store.close();
  });

  it("records the capacity (audited), and describe and list show current ops/s against it", async () => {
    const set = await cellctl(["cells", "set-capacity", "cell-1", "--max-tps", "1000"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe("cell-1: measured capacity 1000 ops/s (was not measured)\n");
    const log = JSON.parse((await cellctl(["audit-log", "--json"])).stdout);
    expect(log.records.at(-1)).toMatchObject({
      action: "cell.set-capacity",
      target: "cell-1",
      actor: "op-test",
      details: { before: null, after: 1000 },
    });

    // Deposits while describe samples the cell's /metrics.
    const owner = await token("cap-user");
    const created = await http(cell.url, "POST", "/api/v1/wallets", { token: owner, body: { userId: "cap-user" } });
    expect(created.status).toBe(201);
    const depositUrl = `${cell.url}/api/v1/wallets/${created.body.walletId}/deposit`;
    const load = spawn(process.execPath, ["-e", LOAD, depositUrl, owner], { stdio: "ignore" });
    const loadExited = once(load, "exit");
    try {
      // Under way before the first sample.
      const depositsNow = async () =>
        (await http(cell.url, "GET", `/api/v1/wallets/${created.body.walletId}`, { token: owner })).body
          .version as number;
      const first = await depositsNow();
      for (const deadline = Date.now() + 20_000; (await depositsNow()) === first; ) {
        if (Date.now() > deadline) throw new Error("the load process made no deposit");
        await new Promise((r) => setTimeout(r, 20));
      }
      const described = await cellctl(["cells", "describe", "cell-1", "--json", "--sample-ms", "1000"]);
      expect(described.code, described.stderr).toBe(0);
      const capacity = JSON.parse(described.stdout).opsCapacity;
      expect(capacity.maxOpsPerSecond).toBe(1000);
      expect(capacity.opsPerSecond).toBeGreaterThan(0);
      expect(capacity.headroomPercent).toBeCloseTo(100 * (1 - capacity.opsPerSecond / 1000), 0);
      expect(capacity.aboveThreshold).toBe(false);
      const text = await cellctl(["cells", "describe", "cell-1", "--sample-ms", "1000"]);
      expect(text.stdout).toMatch(
        /Capacity:\s+1000 ops\/s measured, [0-9.]+ now, headroom [0-9.]+% \(no new users above 80%\)/,
      );
      const list = await cellctl(["cells", "list"]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/cell-1\s+capacity: 1000 ops\/s measured, [0-9.]+ now, headroom/);
      // A cell measured at 5 ops/s runs above 80% of it under this load.
      expect((await cellctl(["cells", "set-capacity", "cell-1", "--max-tps", "5"])).code).toBe(0);
      const hot = JSON.parse((await cellctl(["cells", "list", "--json"])).stdout).cells[0];
      expect(hot.maxOpsPerSecond).toBe(5);
      expect(hot.opsCapacity.opsPerSecond).toBeGreaterThan(4);
      expect(hot.opsCapacity.aboveThreshold).toBe(true);
    } finally {
      load.kill("SIGKILL");
      await loadExited;
    }
    const cleared = await cellctl(["cells", "set-capacity", "cell-1", "--clear", "--json"]);
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout).cell.maxOpsPerSecond).toBeUndefined();
    expect((await cellctl(["cells", "describe", "cell-1", "--sample-ms", "0"])).stdout).toMatch(
      /Capacity:\s+not measured/,
    );
  }, 60_000);
});
