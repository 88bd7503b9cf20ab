/**
 * `cellctl rollout`, `versions` and `cells create` as processes: help with
 * examples, usage errors and refusals with their exit codes, and nothing
 * written when a command is refused. The rollouts themselves run against a
 * platform of processes in e2e/test/rollout-*.test.ts.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePlacementTables, SqlitePlacementStore } from "@cellwallet/placement";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { dynamoClient } from "../../test-support/stores.js";
import { LocalPlatformState, localPlatformStatePath } from "../src/local/local-platform-state.js";
import { DynamoDbRolloutStore, ensureRolloutTable } from "../src/rollout/dynamodb-rollout-store.js";
import { parsePlan, planSteps } from "../src/rollout/rollout-plan.js";
import { newRollout } from "../src/rollout/rollout-state.js";
import { updateRollout } from "../src/rollout/rollout-store.js";
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
    // The controller's observability flags, refused before anything starts (a typo must not drop the canary alarm).
    for (const verb of [["start", "--version", "v2", "--yes"], ["resume"]]) {
      const canary = await cellctl(["rollout", ...verb, "--canary-metrics", "127.0.0.1:9465"]);
      expect([canary.code, canary.stderr.trim()]).toEqual([
        2,
        "cellctl: --canary-metrics 127.0.0.1:9465 is not an http(s) URL (a running cellctl canary's, e.g. http://127.0.0.1:9465)",
      ]);
      const port = await cellctl(["rollout", ...verb, "--metrics-port", "abc"]);
      expect([port.code, port.stderr.trim()]).toEqual([
        2,
        `cellctl: option '--metrics-port <port>' argument 'abc' is invalid. It must be a port number (0 to 65535). (see: cellctl rollout ${verb[0]} --help)`,
      ]);
    }
    const versions = await cellctl(["versions", "list"]);
    expect([versions.code, versions.stderr]).toEqual([2, expect.stringContaining("no local platform")]);
  });

  it("refuses a plan with a step into an evacuated AZ (weight 0) while its bake needs requests", async () => {
    const evacuate = await cellctl(["az", "evacuate", "az-2", "--cell", "cell-3", "--yes"]);
    expect(evacuate.code, evacuate.stderr).toBe(0);
    try {
      for (const verb of [["plan"], ["start", "--yes"]]) {
        const run = await cellctl(["rollout", ...verb, "--version", "v2"]);
        expect([run.code, run.stderr]).toEqual([
          2,
          expect.stringContaining(
            "cell-3/az-2 takes no traffic (weight 0: evacuated), so its bake could never serve bake.minRequests: " +
              "restore it (cellctl az restore az-2 --cell cell-3) or leave cell-3 out of the plan",
          ),
        ]);
      }
      // A bake on time alone is planned, with a warning (here it then stops at the missing local platform).
      const timeOnly = await cellctl(["rollout", "plan", "--version", "v2", "--bake-requests", "0"]);
      expect(timeOnly.stderr).toContain(
        "warning: cell-3/az-2 takes no traffic (weight 0: evacuated): its step bakes on time alone",
      );
      expect(timeOnly.stderr).toContain("no local platform");
    } finally {
      expect((await cellctl(["az", "restore", "az-2", "--cell", "cell-3"])).code).toBe(0);
    }
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
    // A version the local platform does not know is refused before anything starts (exit 2), not planned.
    const unknown = await cellctl(["rollout", "plan", "--version", "v2", "--json"]);
    expect([unknown.code, JSON.parse(unknown.stdout)]).toEqual([
      2,
      { error: { message: "unknown version v2: register it with cellctl versions add", exitCode: 2 } },
    ]);
    const text = await cellctl(["rollout", "plan", "--version", "v2"]);
    expect([text.code, text.stdout, text.stderr]).toEqual([
      2,
      "",
      "cellctl: unknown version v2: register it with cellctl versions add\n",
    ]);
    const start = await cellctl(["rollout", "start", "--version", "v2", "--yes"]);
    expect([start.code, start.stdout, start.stderr]).toEqual([2, "", expect.stringContaining("unknown version v2")]);
    const rollouts = new SqliteRolloutStore(join(dataDir, "control-plane", "rollouts.sqlite"));
    expect(await rollouts.list(10)).toEqual([]);
    await rollouts.close();
    const plan = await cellctl(["rollout", "plan", "--version", "dev", "--json"]);
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
    expect(out.steps[0].change).toContain("/dev/null");
    const create = await cellctl(["cells", "create", "cell-4"]);
    expect([create.code, create.stderr]).toEqual([1, expect.stringContaining("the local platform is not running")]);
    const add = await cellctl(["versions", "add", "v2", "--entry", "/no/such/file.js"]);
    expect([add.code, add.stderr]).toEqual([2, expect.stringContaining("no file")]);
  });
});

describe("cellctl rollout pause / abort / status with a dead controller", () => {
  const dir = mkdtempSync(join(tmpdir(), "cellwallet-rollout-dead-"));
  const run = (args: string[]) => runCellctl(args, { WALLET_DATA_DIR: dir, CELLCTL_OPERATOR: "op-test" });

  it("says that nothing happens until `resume` instead of claiming the controller acts, and status marks it", async () => {
    mkdirSync(join(dir, "control-plane"), { recursive: true });
    // The platform's registry (pause and abort are recorded in its operator audit trail).
    await new SqlitePlacementStore({ path: join(dir, "control-plane", "placement.sqlite") }).close();
    const store = new SqliteRolloutStore(join(dir, "control-plane", "rollouts.sqlite"));
    const cells = new Map([["cell-1", ["az-1", "az-2"]]]);
    const parsed = parsePlan({ version: "v2" }, cells);
    if (!parsed.ok) throw new Error("plan");
    const id = "ro-dead-1";
    const created = await store.create(
      newRollout({
        rolloutId: id,
        driver: "local",
        plan: parsed.plan,
        steps: planSteps(parsed.plan, cells),
        startedBy: "op-test",
        nowMs: Date.now(),
      }),
    );
    expect(created.ok).toBe(true);
    const heartbeat = async (agoMs: number) => {
      const at = new Date(Date.now() - agoMs).toISOString();
      await updateRollout(store, id, (r) => ({
        ok: true,
        rollout: {
          ...r,
          controller: { owner: "host:999", heartbeatAt: at },
          steps: r.steps.map((s) => (s.index === 0 ? { ...s, phase: "baking", bakeStartedAt: at } : s)),
        },
      }));
    };
    // A live controller (fresh heartbeat) is the one that obeys.
    await heartbeat(0);
    const pause = await run(["rollout", "pause"]);
    expect([pause.code, pause.stdout.trim()], pause.stderr).toEqual([
      0,
      expect.stringMatching(
        /^pause requested for rollout ro-dead-1: its controller \(host:999, heartbeat \d+s ago\) pauses after the step in flight$/,
      ),
    ]);
    // It died (SIGKILL, terminal closed): its heartbeat stops.
    await heartbeat(60_000);
    const status = await run(["rollout", "status"]);
    expect(status.stdout).toMatch(
      /\ncontroller: host:999 \(heartbeat 6\ds ago: STALE, presumably dead; nothing advances until `cellctl rollout resume ro-dead-1` takes over\)\n/,
    );
    const abort = await run(["rollout", "abort", "--yes"]);
    expect([abort.code, abort.stdout.trim()], abort.stderr).toEqual([
      0,
      expect.stringMatching(
        /^abort requested for rollout ro-dead-1, but no controller is running \(host:999's last heartbeat 6\ds ago\): nothing happens until you run `cellctl rollout resume ro-dead-1`, which takes over and rolls back the step in flight and stops$/,
      ),
    ]);
    await store.close();
  });
});

describe("cellctl rollout on the DynamoDB store (moto), as in AWS", () => {
  const prefix = `rc${process.pid.toString(36)}${Date.now().toString(36)}`;
  const env = {
    PLACEMENT_STORE: "dynamodb",
    PLACEMENT_TABLE_PREFIX: prefix,
    DYNAMODB_ENDPOINT: inject("motoEndpoint"),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    CELLCTL_OPERATOR: "ci",
  };
  const run = (args: string[]) => runCellctl(args, env);

  it("lists, shows, pauses and aborts a rollout stored in DynamoDB; a second start is refused", async () => {
    const client = dynamoClient(env.DYNAMODB_ENDPOINT);
    await ensurePlacementTables(client, prefix);
    await ensureRolloutTable(client, prefix);
    const cells = new Map([["cell-1", ["az-1"]]]);
    const parsed = parsePlan({ version: "v2" }, cells);
    if (!parsed.ok) throw new Error("plan");
    const store = new DynamoDbRolloutStore(client, prefix);
    const created = await store.create(
      newRollout({
        rolloutId: "ro-ci-1",
        driver: "kubernetes",
        plan: parsed.plan,
        steps: planSteps(parsed.plan, cells),
        startedBy: "ci",
        nowMs: Date.now(),
      }),
    );
    expect(created.ok).toBe(true);
    const status = await run(["rollout", "status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ rolloutId: "ro-ci-1", status: "running" });
    const pause = await run(["rollout", "pause"]);
    expect([pause.code, pause.stdout]).toEqual([0, expect.stringContaining("no controller is running")]);
    expect((await store.get("ro-ci-1"))?.intent).toBe("pause");
    // One active rollout: a start is refused before any driver is opened or anything is written.
    const register = await run([
      "cells",
      "register",
      "cell-1",
      "--capacity",
      "5",
      "--endpoint",
      "az-1=http://127.0.0.1:1",
    ]);
    expect(register.code, register.stderr).toBe(0);
    const start = await run([
      "rollout",
      "start",
      "--version",
      "v3",
      "--driver",
      "kubernetes",
      "--manifests",
      "/nonexistent",
      "--yes",
    ]);
    expect([start.code, start.stderr]).toEqual([1, expect.stringContaining("rollout ro-ci-1 is still active")]);
    const abort = await run(["rollout", "abort", "--yes", "--json"]);
    expect(abort.code, abort.stderr).toBe(0);
    expect((await store.get("ro-ci-1"))?.intent).toBe("abort");
    const all = await run(["rollout", "status", "--all", "--json"]);
    expect(JSON.parse(all.stdout).rollouts.map((r: { rolloutId: string }) => r.rolloutId)).toEqual(["ro-ci-1"]);
    const audit = JSON.parse((await run(["audit-log", "--json"])).stdout).records.map(
      (r: { action: string }) => r.action,
    );
    expect(audit).toEqual(
      expect.arrayContaining(["rollout.pause", "rollout.start", "rollout.start.failed", "rollout.abort"]),
    );
    await store.close();
    client.destroy();
  });
});
