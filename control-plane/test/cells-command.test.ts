/**
 * `cellctl cells` and `cellctl az` as operators run them: real `node control-plane/bin/cellctl.js`
 * processes (built by `tsc -b`) against a temporary SQLite registry, a real cell process for the
 * /ready probes, and the registry and operator audit trail read back afterwards.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { freePort } from "../../test-support/moto-server.js";

const dir = mkdtempSync(join(tmpdir(), "cellwallet-cells-command-"));
const registryPath = join(dir, "placement.sqlite");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cellctl(args: string[]): Promise<Run> {
  return runCellctl(args, { PLACEMENT_SQLITE_PATH: registryPath, CELLCTL_OPERATOR: "op-test" });
}

async function withRegistry<T>(use: (store: SqlitePlacementStore) => Promise<T>): Promise<T> {
  const store = new SqlitePlacementStore({ path: registryPath });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

async function auditRecords(): Promise<{ action: string; target: string; actor: string; details: never }[]> {
  const run = await cellctl(["audit-log", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  const parsed = JSON.parse(run.stdout);
  expect(parsed.verification.valid).toBe(true);
  return parsed.records;
}

describe("cellctl cells and az", () => {
  let cell: CellProcess;
  let deadUrl: string;

  beforeAll(async () => {
    cell = await startCellProcess({
      WALLET_STORE: "sqlite",
      WALLET_SQLITE_PATH: join(dir, "cell.sqlite"),
      WALLET_JWT_SECRET: "",
    });
    // A port nothing listens on: its /ready probe fails.
    deadUrl = `http://127.0.0.1:${await freePort()}`;
  }, 60_000);

  afterAll(async () => {
    await cell?.stop();
  });

  it("refuses to register a new cell without endpoints and capacity, or with a malformed endpoint (exit 2)", async () => {
    const missing = await cellctl(["cells", "register", "cell-a", "--capacity", "10"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/new cell: give --endpoint/);
    const malformed = await cellctl(["cells", "register", "cell-a", "--capacity", "10", "--endpoint", "az-1"]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--endpoint expects az=/);
    expect(await withRegistry((s) => s.getCell("cell-a"))).toBeUndefined();
  });

  it("registers cells and lists them as a table and as JSON, with users, fill and AZ weights", async () => {
    const a = await cellctl([
      "cells",
      "register",
      "cell-a",
      "--capacity",
      "4",
      "--endpoint",
      `az-1=${cell.url}`,
      "--endpoint",
      `az-2=${cell.url}`,
      "--endpoint",
      `az-3=${deadUrl}`,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/registered cell-a: active, 0\/4 users/);
    const b = await cellctl([
      "cells",
      "register",
      "cell-b",
      "--capacity",
      "100",
      ...["az-1", "az-2", "az-3"].flatMap((az) => ["--endpoint", `${az}=${cell.url}`]),
      "--json",
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).created).toBe(true);
    await withRegistry(async (s) => {
      expect((await s.placeUser("u1", "cell-a", "policy")).ok).toBe(true);
    });

    const table = await cellctl(["cells", "list"]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^CELL\s+STATE\s+USERS\/CAPACITY\s+FILL\s+AZS/);
    expect(lines[1]).toMatch(/^cell-a\s+active\s+1\/4\s+25\.0%\s+az-1:1 az-2:1 az-3:1$/);
    expect(lines[2]).toMatch(/^cell-b\s+active\s+0\/100\s+0\.0%/);

    const json = await cellctl(["cells", "list", "--json"]);
    expect(json.code).toBe(0);
    const cells = JSON.parse(json.stdout).cells;
    expect(cells.map((c: { cellId: string }) => c.cellId)).toEqual(["cell-a", "cell-b"]);
    expect(cells[0]).toMatchObject({ state: "active", users: 1, capacity: 4, fillPercent: 25 });
    expect(cells[0].endpoints).toEqual([
      { az: "az-1", url: cell.url, weight: 1 },
      { az: "az-2", url: cell.url, weight: 1 },
      { az: "az-3", url: deadUrl, weight: 1 },
    ]);
  });

  it("describes a cell with each endpoint's live /ready and the static-stability verdict", async () => {
    const a = await cellctl(["cells", "describe", "cell-a", "--timeout", "500"]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/State:\s+active/);
    expect(a.stdout).toMatch(/Users:\s+1 of 4 \(25\.0%\)/);
    expect(a.stdout).toMatch(/az-1\s+1\s+yes \(\d+ ms\)/);
    expect(a.stdout).toMatch(/az-3\s+1\s+no \(/);
    // az-3 is registered but not ready: 2 in service, losing one leaves a single AZ carrying 2x.
    expect(a.stdout).toContain("can lose one AZ: no (2 of 3 AZs in service)");

    const b = await cellctl(["cells", "describe", "cell-b", "--json"]);
    expect(b.code, b.stderr).toBe(0);
    const described = JSON.parse(b.stdout);
    expect(described.verdict).toBe("can lose one AZ: yes (3 of 3 AZs in service)");
    expect(described.staticStability).toMatchObject({
      inService: 3,
      total: 3,
      canLoseOneAz: true,
      requiredFactor: 1.5,
    });
    expect(described.cell.endpoints.map((e: { readiness: { ready: boolean } }) => e.readiness.ready)).toEqual([
      true,
      true,
      true,
    ]);

    // A stricter headroom turns the verdict: 3 equal AZs need 1.5x.
    const strict = await cellctl(["cells", "describe", "cell-b", "--headroom", "1.4"]);
    expect(strict.stdout).toContain("can lose one AZ: no (3 of 3 AZs in service)");

    const unknown = await cellctl(["cells", "describe", "cell-zz"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown cell cell-zz/);
  });

  it("cordons only with --yes (exit 2 otherwise), stops new placements, and uncordons back to active", async () => {
    const unconfirmed = await cellctl(["cells", "cordon", "cell-a"]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    expect((await withRegistry((s) => s.getCell("cell-a")))?.state).toBe("active");

    const cordoned = await cellctl(["cells", "cordon", "cell-a", "--yes", "--json"]);
    expect(cordoned.code, cordoned.stderr).toBe(0);
    expect(JSON.parse(cordoned.stdout)).toEqual({ cellId: "cell-a", from: "active", state: "cordoned", changed: true });
    await withRegistry(async (s) => {
      expect(await s.placeUser("u2", "cell-a", "policy")).toEqual({ ok: false, reason: "cell-not-active" });
    });
    const again = await cellctl(["cells", "cordon", "cell-a", "--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already cordoned/);

    const uncordoned = await cellctl(["cells", "uncordon", "cell-a"]);
    expect(uncordoned.code, uncordoned.stderr).toBe(0);
    expect(uncordoned.stdout).toMatch(/cell-a: cordoned -> active/);
    await withRegistry(async (s) => {
      expect((await s.placeUser("u2", "cell-a", "policy")).ok).toBe(true);
      expect((await s.getCell("cell-a"))?.users).toBe(2);
    });
  });

  it("refuses cordon and uncordon on draining and retired cells (exit 1), and unknown cells (exit 2)", async () => {
    await withRegistry(async (s) => {
      await s.putCell({ cellId: "cell-d", state: "draining", capacity: 5, endpoints: [] });
      await s.putCell({ cellId: "cell-r", state: "retired", capacity: 5, endpoints: [] });
    });
    for (const [verb, cellId] of [
      ["cordon", "cell-d"],
      ["uncordon", "cell-d"],
      ["cordon", "cell-r"],
      ["uncordon", "cell-r"],
    ] as const) {
      const run = await cellctl(["cells", verb, cellId, "--yes"].filter((a) => verb === "cordon" || a !== "--yes"));
      expect(run.code, `${verb} ${cellId}`).toBe(1);
      expect(run.stderr).toMatch(/refusing/);
    }
    expect((await withRegistry((s) => s.getCell("cell-d")))?.state).toBe("draining");
    expect((await withRegistry((s) => s.getCell("cell-r")))?.state).toBe("retired");
    expect((await cellctl(["cells", "uncordon", "cell-zz"])).code).toBe(2);
  });

  it("re-registers a cell keeping its users, state and weights", async () => {
    await withRegistry(async (s) => {
      const a = await s.getCell("cell-a");
      if (!a) throw new Error("cell-a missing");
      await s.putCell({ ...a, endpoints: a.endpoints.map((e) => (e.az === "az-2" ? { ...e, weight: 3 } : e)) });
    });
    const run = await cellctl(["cells", "register", "cell-a", "--capacity", "8"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/updated cell-a: active, 2\/8 users, az-1:1 az-2:3 az-3:1/);
    const moved = await cellctl([
      "cells",
      "register",
      "cell-a",
      "--endpoint",
      `az-2=${cell.url}`,
      "--endpoint",
      `az-4=${cell.url}`,
    ]);
    expect(moved.code, moved.stderr).toBe(0);
    const a = await withRegistry((s) => s.getCell("cell-a"));
    expect(a).toMatchObject({ users: 2, capacity: 8, state: "active" });
    expect(a?.endpoints).toEqual([
      { az: "az-2", url: cell.url, weight: 3 },
      { az: "az-4", url: cell.url, weight: 1 },
    ]);
  });

  it("evacuates an AZ in every cell, refuses to evacuate a cell's last AZ, and restores the previous weights", async () => {
    // cell-a: az-2 (weight 3), az-4. cell-b: az-1, az-2, az-3.
    const unconfirmed = await cellctl(["az", "evacuate", "az-2"]);
    expect(unconfirmed.code).toBe(2);

    const evacuated = await cellctl(["az", "evacuate", "az-2", "--yes", "--json"]);
    expect(evacuated.code, evacuated.stderr).toBe(0);
    expect(JSON.parse(evacuated.stdout).changes).toEqual([
      { cellId: "cell-a", az: "az-2", from: 3, to: 0 },
      { cellId: "cell-b", az: "az-2", from: 1, to: 0 },
    ]);
    const weights = async (cellId: string) =>
      Object.fromEntries(
        ((await withRegistry((s) => s.getCell(cellId)))?.endpoints ?? []).map((e) => [e.az, e.weight]),
      );
    expect(await weights("cell-a")).toEqual({ "az-2": 0, "az-4": 1 });
    expect(await weights("cell-b")).toEqual({ "az-1": 1, "az-2": 0, "az-3": 1 });
    const described = JSON.parse((await cellctl(["cells", "describe", "cell-b", "--json"])).stdout);
    expect(described.verdict).toBe("can lose one AZ: no (2 of 3 AZs in service)");

    // az-4 is cell-a's last AZ in service: refused as a whole, nothing written (cell-b has no az-4).
    const last = await cellctl(["az", "evacuate", "az-4", "--yes"]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/cell-a: az-4 is its last AZ in service/);
    expect(last.stderr.trim().split("\n"), last.stderr).toHaveLength(1);
    expect(await weights("cell-a")).toEqual({ "az-2": 0, "az-4": 1 });

    const noSuchAz = await cellctl(["az", "evacuate", "az-9", "--yes"]);
    expect(noSuchAz.code).toBe(2);

    // Restore one cell first, then the rest: each gets the weight it had before.
    const one = await cellctl(["az", "restore", "az-2", "--cell", "cell-b"]);
    expect(one.code, one.stderr).toBe(0);
    expect(await weights("cell-b")).toEqual({ "az-1": 1, "az-2": 1, "az-3": 1 });
    expect(await weights("cell-a")).toEqual({ "az-2": 0, "az-4": 1 });
    const rest = await cellctl(["az", "restore", "az-2", "--yes"]); // accepted, as by uncordon
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(/cell-a\s+az-2\s+0 -> 3/);
    expect(rest.stdout).toMatch(/cell-b\s+az-2\s+unchanged/);
    expect(await weights("cell-a")).toEqual({ "az-2": 3, "az-4": 1 });
  });

  it("records every change in the operator audit trail, and nothing for refusals or reads", async () => {
    const records = await auditRecords();
    expect(records.map((r) => `${r.action} ${r.target}`)).toEqual([
      "cell.register cell-a",
      "cell.register cell-b",
      "cell.cordon cell-a",
      "cell.uncordon cell-a",
      "cell.register cell-a",
      "cell.register cell-a",
      "az.evacuate az-2",
      "az.restore az-2",
      "az.restore az-2",
    ]);
    expect(records.every((r) => r.actor === "op-test")).toBe(true);
    const evacuation = records[6] as unknown as { details: { driver: string; changes: unknown[] } };
    expect(evacuation.details.driver).toBe("router-weights");
    expect(evacuation.details.changes).toHaveLength(2);
  });

  it("takes --yes on uncordon as on cordon (a script confirming every step must not fail on it)", async () => {
    expect((await cellctl(["cells", "cordon", "cell-b", "--yes"])).code).toBe(0);
    const run = await cellctl(["cells", "uncordon", "cell-b", "--yes"]);
    expect([run.code, run.stderr, run.stdout]).toEqual([0, "", "cell-b: cordoned -> active\n"]);
  });

  it("asks before a --capacity below the users the cell holds (exit 2 without --yes), then says it is over", async () => {
    // cell-a holds 2 users (capacity 8): a typo of 1 would close it to new users without a word.
    const refused = await cellctl(["cells", "register", "cell-a", "--capacity", "1"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      "cellctl: Set cell-a's capacity to 1, below the 2 users it holds (no new user placed there until it has room) needs confirmation: pass --yes in non-interactive use\n",
    );
    expect((await withRegistry((s) => s.getCell("cell-a")))?.capacity).toBe(8);
    const confirmed = await cellctl(["cells", "register", "cell-a", "--capacity", "1", "--yes"]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toMatch(/^updated cell-a: active, 2\/1 users \(OVER CAPACITY: no new users\), /);
    const json = await cellctl(["cells", "register", "cell-a", "--capacity", "8", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ created: false, overCapacity: false, cell: { capacity: 8 } });
  });

  it("documents the commands with examples in --help", async () => {
    for (const args of [
      ["cells", "--help"],
      ["cells", "describe", "--help"],
      ["cells", "cordon", "--help"],
      ["az", "evacuate", "--help"],
    ]) {
      const run = await cellctl(args);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout).toMatch(/Examples:\n\s+\$ cellctl (cells|az) /);
    }
  });
});
