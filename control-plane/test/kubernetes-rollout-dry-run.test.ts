/**
 * The "kubernetes driver's dry-run output for a rollout, checked against the synthesized manifests":
 * two releases of the platform (2 cells x 3 AZs) synthesized by the real `npm run synth -- --version` process,
 * a rollout plan of v2 (canary cell first, then the rest; one AZ at a time), and the driver's dry run for every
 * step in the plan's order: each step names the Deployment the YAML names for that cell and AZ, and shows
 * exactly the change between the two YAML documents (version labels, image, CELL_VERSION), nothing else.
 * Without a cluster and against a loopback stand-in of the API server holding v1 (NOT a real API server);
 * in-process through the driver and the plan, and as the operator runs it: `cellctl rollout plan --driver
 * kubernetes --manifests <dir>` as a process, with the cells in a (SQLite) registry.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { createKubernetesDriver } from "../src/rollout/kubernetes-driver.js";
import { parsePlan, planSteps } from "../src/rollout/rollout-plan.js";
import { kubeconfigYaml, startFakeKubernetesApi } from "./kubernetes-api-server.js";
import { deploymentOf, type Json, synthRelease } from "./kubernetes-synth.js";

const AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const CELLS = new Map([
  ["cell-1", AZS],
  ["cell-2", AZS],
]);
let dir: string;
let manifests: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-k8s-rollout-"));
  manifests = join(dir, "manifests");
  synthRelease(manifests, "v1");
  synthRelease(manifests, "v2");
  vi.stubEnv("KUBECONFIG", "");
  vi.stubEnv("HOME", dir);
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** The plan: cell-2 is the canary (not the first cell in file order, so the order is the plan's). */
function plannedSteps() {
  const parsed = parsePlan({ version: "v2", waves: [["cell-2"], ["cell-1"]], azOrder: AZS }, CELLS);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return planSteps(parsed.plan, CELLS);
}

/** What the dry run must say for one step, computed from the two YAML documents alone. */
function expectedStep(cellId: string, az: string): { header: string; changes: string[] } {
  const from: Json = deploymentOf(join(manifests, "v1"), cellId, az);
  const to: Json = deploymentOf(join(manifests, "v2"), cellId, az);
  const q = JSON.stringify;
  const version = (d: Json) => q(d.metadata.labels["cellwallet.io/version"]);
  const image = (d: Json) => q(d.spec.template.spec.containers[0].image);
  const env = (d: Json) => q(d.spec.template.spec.containers[0].env.find((e: Json) => e.name === "CELL_VERSION").value);
  return {
    header: `cell ${cellId}, AZ ${az}: Deployment ${to.metadata.namespace}/${to.metadata.name}, release v1 -> v2`,
    changes: [
      `~ metadata.labels["cellwallet.io/version"]: ${version(from)} -> ${version(to)}`,
      `~ spec.template.metadata.labels["cellwallet.io/version"]: ${version(from)} -> ${version(to)}`,
      `~ spec.template.spec.containers[name=app].env[name=CELL_VERSION].value: ${env(from)} -> ${env(to)}`,
      `~ spec.template.spec.containers[name=app].image: ${image(from)} -> ${image(to)}`,
    ],
  };
}

const changeLines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[~+-] /.test(l));

describe("the kubernetes driver's dry run of a rollout, against the synthesized manifests", () => {
  it("plans the canary cell's AZs one by one, then the rest", () => {
    expect(plannedSteps().map((s) => `${s.wave}:${s.cellId}/${s.az}`)).toEqual([
      "0:cell-2/eu-west-1a",
      "0:cell-2/eu-west-1b",
      "0:cell-2/eu-west-1c",
      "1:cell-1/eu-west-1a",
      "1:cell-1/eu-west-1b",
      "1:cell-1/eu-west-1c",
    ]);
  });

  it("without a cluster: every step, in order, names its Deployment and exactly the YAML's change", async () => {
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: true });
    for (const step of plannedSteps()) {
      const text = await driver.describeChange(step, "v2");
      const expected = expectedStep(step.cellId, step.az);
      expect(text.split("\n")[0], `${step.cellId}/${step.az}`).toBe(expected.header);
      expect(changeLines(text)).toEqual(expected.changes);
      const name = deploymentOf(join(manifests, "v2"), step.cellId, step.az).metadata.name;
      expect(text).toContain(`PATCH /apis/apps/v1/namespaces/cellwallet/deployments/${name}?fieldManager=cellctl`);
      expect(text).toContain(join(manifests, "v2", `${step.cellId}.k8s.yaml`));
    }
  });

  it("a dry-run rollout logs the steps in wave order and its rollback diffs back to v1", async () => {
    const log: string[] = [];
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: true, log: (l) => log.push(l) });
    const steps = plannedSteps();
    for (const step of steps) await driver.deploy(step, "v2");
    const headers = log.filter((l) => l.startsWith("dry run, nothing applied: "));
    expect(headers).toEqual(steps.map((s) => `dry run, nothing applied: ${expectedStep(s.cellId, s.az).header}`));
    expect(changeLines(log.join("\n"))).toEqual(steps.flatMap((s) => expectedStep(s.cellId, s.az).changes));
    // a rollback of the last step: v2 -> v1, the same fields the other way
    const last = steps.at(-1) as (typeof steps)[number];
    const back = changeLines(await driver.describeChange(last, "v1"));
    expect(back).toHaveLength(4);
    expect(back[3]).toMatch(/cell-service:v2" -> ".*cell-service:v1"$/);
  });

  it("with a cluster running v1: the same steps, the same changes, read from the live Deployments", async () => {
    const api = await startFakeKubernetesApi();
    try {
      const kubeconfig = join(dir, "kubeconfig");
      writeFileSync(kubeconfig, kubeconfigYaml(api.url, { token: api.token }));
      const installer = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig, log: () => {} });
      for (const step of plannedSteps()) await installer.deploy(step, "v1");
      const stored = JSON.stringify([...api.deployments]);
      const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig });
      for (const step of plannedSteps()) {
        expect(await driver.currentVersion(step)).toBe("v1");
        const text = await driver.describeChange(step, "v2");
        const expected = expectedStep(step.cellId, step.az);
        expect(text.split("\n")[0]).toBe(expected.header);
        expect(text).toContain("the live Deployment in context test");
        expect(changeLines(text)).toEqual(expected.changes);
      }
      expect(JSON.stringify([...api.deployments])).toBe(stored); // the dry run stored nothing
    } finally {
      await api.close();
    }
  });

  describe("as a process: cellctl rollout plan --driver kubernetes", () => {
    let env: Record<string, string>;
    beforeAll(async () => {
      env = { PLACEMENT_SQLITE_PATH: join(dir, "registry.sqlite"), CELLCTL_OPERATOR: "k-test", HOME: dir };
      for (const cellId of CELLS.keys()) {
        const endpoints = AZS.flatMap((az) => [
          "--endpoint",
          `${az}=http://${cellId}-${az}.cellwallet.svc.cluster.local:9000`,
        ]);
        const registered = await runCellctl(["cells", "register", cellId, "--capacity", "1000", ...endpoints], env);
        expect(registered.code, registered.stderr).toBe(0);
      }
    });

    /** The plan's output cut into steps: `--- step i/n (wave w): cell/az` then that step's change. */
    function stepsOf(stdout: string): { header: string; body: string }[] {
      return stdout
        .split(/^(?=--- step )/m)
        .slice(1)
        .map((chunk) => {
          const [header = "", ...body] = chunk.trimEnd().split("\n");
          return { header, body: body.join("\n") };
        });
    }

    it("prints every step's exact change, in wave order, as the synthesized YAML has it (no cluster)", async () => {
      const run = await runCellctl(
        [
          "rollout",
          "plan",
          "--version",
          "v2",
          "--canary",
          "cell-2",
          "--driver",
          "kubernetes",
          "--manifests",
          manifests,
        ],
        env,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/Rollout of v2 with the kubernetes driver: 2 waves, 6 steps/);
      const steps = stepsOf(run.stdout);
      const planned = plannedSteps();
      expect(steps.map((s) => s.header)).toEqual(
        planned.map((p, i) => `--- step ${i + 1}/6 (wave ${p.wave + 1}): ${p.cellId}/${p.az}`),
      );
      planned.forEach((p, i) => {
        const expected = expectedStep(p.cellId, p.az);
        const body = steps[i]?.body ?? "";
        expect(body.split("\n")[0]).toBe(expected.header);
        expect(changeLines(body)).toEqual(expected.changes);
        expect(body).toContain(join(manifests, "v2", `${p.cellId}.k8s.yaml`));
      });
    });

    it("reads the live Deployments through --kubeconfig, and changes nothing", async () => {
      const api = await startFakeKubernetesApi();
      try {
        const kubeconfig = join(dir, "kubeconfig-process");
        writeFileSync(kubeconfig, kubeconfigYaml(api.url, { token: api.token }));
        const installer = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig, log: () => {} });
        for (const step of plannedSteps()) await installer.deploy(step, "v1");
        api.requests.length = 0;
        const run = await runCellctl(
          ["rollout", "plan", "--version", "v2", "--canary", "cell-2", "--driver", "kubernetes"].concat([
            "--manifests",
            manifests,
            "--kubeconfig",
            kubeconfig,
            "--json",
          ]),
          env,
        );
        expect(run.code, run.stderr).toBe(0);
        const out = JSON.parse(run.stdout) as {
          driver: string;
          steps: { cellId: string; az: string; change: string }[];
        };
        expect(out.driver).toBe("kubernetes");
        expect(out.steps.map((s) => `${s.cellId}/${s.az}`)).toEqual(plannedSteps().map((p) => `${p.cellId}/${p.az}`));
        for (const step of out.steps) {
          expect(step.change).toContain("the live Deployment in context test");
          expect(changeLines(step.change)).toEqual(expectedStep(step.cellId, step.az).changes);
        }
        // reads and server dry runs only
        expect(api.requests.every((r) => r.method === "GET" || r.query.get("dryRun") === "All")).toBe(true);
        expect(api.requests.filter((r) => r.method === "PATCH")).toHaveLength(6);
      } finally {
        await api.close();
      }
    });

    it("refuses a release that was never synthesized, naming it", async () => {
      const run = await runCellctl(
        ["rollout", "plan", "--version", "v3", "--driver", "kubernetes", "--manifests", manifests],
        env,
      );
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/no synthesized Deployment of cell .* for release v3/);
    });
  });
});
