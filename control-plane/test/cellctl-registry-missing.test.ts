/**
 * A mistyped WALLET_DATA_DIR or PLACEMENT_SQLITE_PATH (ops audit finding 6): cellctl used to open, and so
 * create, an empty registry there and answer "(no cells registered)" or "VALID: 0 records" with exit 0. Every
 * command that only reads or changes an existing registry refuses a missing one: exit 2, one line naming the
 * path and the variable, nothing created. The commands that bring a registry into being still do.
 */
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";

const READS_AND_CHANGES = [
  ["cells", "list"],
  ["cells", "describe", "cell-1"],
  ["audit-log"],
  ["audit-log", "--json"],
  ["verify", "--all"],
  ["reconcile", "--all"],
  ["checkpoints", "--cell", "cell-1"],
  ["users", "locate", "alice"],
  ["canary", "run", "--cell", "cell-1", "--once"],
  ["cells", "cordon", "cell-1", "--yes"],
  ["cells", "set-capacity", "cell-1", "--max-tps", "10"],
  ["az", "evacuate", "az-1", "--yes"],
];

describe("cellctl over a registry that does not exist", () => {
  it("refuses with exit 2 and one line naming the path and WALLET_DATA_DIR, and creates nothing", async () => {
    const parent = mkdtempSync(join(tmpdir(), "cellctl-typo-"));
    const dataDir = join(parent, "typo");
    const path = join(dataDir, "control-plane", "placement.sqlite");
    const line = `no placement registry at ${path} (check WALLET_DATA_DIR; npm start or cellctl cells register creates it)`;
    for (const args of READS_AND_CHANGES) {
      const run = await runCellctl(args, { WALLET_DATA_DIR: dataDir });
      const what = `${args.join(" ")} -> ${run.code}: ${run.stdout}${run.stderr}`;
      expect(run.code, what).toBe(2);
      if (args.includes("--json")) {
        expect(JSON.parse(run.stdout), what).toEqual({ error: { message: line, exitCode: 2 } });
      } else {
        expect([run.stdout, run.stderr], what).toEqual(["", `cellctl: ${line}\n`]);
      }
      expect(readdirSync(parent), what).toEqual([]);
    }
  }, 60_000);

  it("names PLACEMENT_SQLITE_PATH when that is what points nowhere, and creates no directory", async () => {
    const parent = mkdtempSync(join(tmpdir(), "cellctl-typo-"));
    const path = join(parent, "no", "such", "p.sqlite");
    const run = await runCellctl(["cells", "list"], { PLACEMENT_SQLITE_PATH: path });
    expect([run.code, run.stdout, run.stderr]).toEqual([
      2,
      "",
      `cellctl: no placement registry at ${path} (check PLACEMENT_SQLITE_PATH; npm start or cellctl cells register creates it)\n`,
    ]);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("still creates it where that is the point: cells register, and the recorded mint of token", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "cellctl-new-")), "data");
    const minted = await runCellctl(["token", "--sub", "alice"], { WALLET_DATA_DIR: dataDir });
    expect(minted.code, minted.stderr).toBe(0);
    expect(existsSync(join(dataDir, "control-plane", "placement.sqlite"))).toBe(true);

    const path = join(mkdtempSync(join(tmpdir(), "cellctl-new-")), "deeper", "placement.sqlite");
    const env = { PLACEMENT_SQLITE_PATH: path };
    const registered = await runCellctl(
      ["cells", "register", "cell-1", "--capacity", "10", "--endpoint", "az-1=http://127.0.0.1:1"],
      env,
    );
    expect(registered.code, registered.stderr).toBe(0);
    const listed = await runCellctl(["cells", "list"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/cell-1\s+active\s+0\/10/);
    const trail = await runCellctl(["audit-log"], env);
    expect([trail.code, trail.stdout]).toEqual([0, expect.stringMatching(/cell\.register\s+cell-1\nVALID: 1 records/)]);
  }, 60_000);
});
