/**
 * `cellctl rollout`, `versions` and `cells create` as processes: help with
 * examples, usage errors and refusals with their exit codes, and nothing
 * written when a command is refused. The rollouts themselves run against a
 * platform of processes in e2e/test/rollout-*.test.ts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { LocalPlatformState, localPlatformStatePath } from "../src/local/local-platform-state.js";
import { SqliteRolloutStore } from "../src/rollout/sqlite-rollout-store.js";

const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-rollout-cli-"));
const cellctl = (args: string[]) => runCellctl(args, { WALLET_DATA_DIR: dataDir, CELLCTL_OPERATOR: "op-test" });

describe("cellctl rollout / versions / cells create (processes)", () => {
  beforeAll(async () => {
    for (const cell of ["cell-1", "cell-2", "cell-3"]) {
      const run = await cellctl([
        "cells",
        "register",
        cell,
        "--capacity",
        "10",
        "--endpoint",
        "az-1=http://127.0.0.1:1",
        "--endpoint",
        "az-2=http://127.0.0.1:2",
      ]);
      expect(run.code, run.stderr).toBe(0);
    }
  });

  it("has help with examples and exit statuses on every verb", async () => {
    const top = await cellctl(["rollout", "--help"]);
    for (const verb of ["plan", "start", "status", "pause", "resume", "abort"]) expect(top.stdout).toContain(verb);
    for (const verb of ["plan", "start", "status", "pause", "resume", "abort"]) {
      const help = await cellctl(["rollout", verb, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("Examples:");
      expect(help.stdout).toContain("Exit status:");
    }
  });

  it("refuses a bad plan with every reason (exit 2) and starts nothing", async () => {
    const run = await cellctl([
      "rollout",
      "start",
      "--version",
      "v 2",
      "--canary",
      "cell-9",
      "--waves",
      "cell-1,cell-2;cell-3",
      "--yes",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the plan is refused");
    expect(run.stderr).toContain("version must be");
    expect(run.stderr).toContain("unknown cell cell-9");
    expect(run.stderr).toContain("wave 3 is smaller than wave 2");
    const store = new SqliteRolloutStore(join(dataDir, "control-plane", "rollouts.sqlite"));
    expect(await store.list(10)).toEqual([]);
    await store.close();
  });

  it("usage errors: no version, unknown driver, kubernetes without manifests, no local platform (exit 2)", async () => {
    expect((await cellctl(["rollout", "plan"])).code).toBe(2);
    const driver = await cellctl(["rollout", "plan", "--version", "v2", "--driver", "ecs"]);
    expect([driver.code, driver.stderr]).toEqual([2, expect.stringContaining("--driver must be local or kubernetes")]);
    const k8s = await cellctl(["rollout", "plan", "--version", "v2", "--driver", "kubernetes"]);
    expect([k8s.code, k8s.stderr]).toEqual([2, expect.stringContaining("needs --manifests")]);
    const local = await cellctl(["rollout", "plan", "--version", "v2"]);
    expect([local.code, local.stderr]).toEqual([2, expect.stringContaining("no local platform")]);
    const dry = await cellctl(["rollout", "start", "--version", "v2", "--dry-run", "--yes"]);
    expect([dry.code, dry.stderr]).toEqual([2, expect.stringContaining("cellctl rollout plan")]);
    const versions = await cellctl(["versions", "list"]);
    expect([versions.code, versions.stderr]).toEqual([2, expect.stringContaining("no local platform")]);
  });

  it("status, pause, resume and abort without a rollout: exit 2", async () => {
    expect((await cellctl(["rollout", "status"])).code).toBe(2);
    expect((await cellctl(["rollout", "status", "ro-nope"])).code).toBe(2);
    expect((await cellctl(["rollout", "pause"])).code).toBe(2);
    expect((await cellctl(["rollout", "resume"])).code).toBe(2);
    expect((await cellctl(["rollout", "abort", "ro-nope", "--yes"])).code).toBe(2);
    const all = await cellctl(["rollout", "status", "--all"]);
    expect([all.code, all.stdout]).toEqual([0, expect.stringContaining("(no rollouts)")]);
  });

  it("plans against a local platform's declared state; refuses when its launcher is not running", async () => {
    const state = new LocalPlatformState(localPlatformStatePath(dataDir));
    state.seed(["cell-1", "cell-2", "cell-3"], ["az-1", "az-2"], "dev");
    state.registerVersion({ name: "dev", entry: "/dev/null" });
    state.close();
    const plan = await cellctl(["rollout", "plan", "--version", "v2", "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    const out = JSON.parse(plan.stdout);
    expect(out.plan.waves).toEqual([["cell-1"], ["cell-2"], ["cell-3"]]);
    expect(out.steps.map((s: { cellId: string; az: string }) => `${s.cellId}/${s.az}`)).toEqual([
      "cell-1/az-1",
      "cell-1/az-2",
      "cell-2/az-1",
      "cell-2/az-2",
      "cell-3/az-1",
      "cell-3/az-2",
    ]);
    expect(out.steps[0].change).toContain("UNKNOWN VERSION");
    const create = await cellctl(["cells", "create", "cell-4"]);
    expect([create.code, create.stderr]).toEqual([1, expect.stringContaining("the local platform is not running")]);
    const add = await cellctl(["versions", "add", "v2", "--entry", "/no/such/file.js"]);
    expect([add.code, add.stderr]).toEqual([2, expect.stringContaining("no file")]);
  });
});
