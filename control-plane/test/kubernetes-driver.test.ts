/**
 * The kubernetes rollout driver on two releases synthesized by the real `npm run synth -- --version`
 * process: finding a cell's Deployment per release, the dry-run diff (without a cluster, and against a
 * live Deployment with the API server's dry run of the apply), and the server-side apply itself against a
 * loopback stand-in of the API server (kubernetes-api-server.ts: NOT a real API server) that checks each
 * request: method, path, content type, field manager, credentials and a body equal to the synthesized
 * Deployment read straight from the YAML.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
// test code only: the driver itself cannot import infra (infra depends on the control plane)
import { LABELS } from "../../infra/cdk8s/src/config.js";
import { rolloutProgress } from "../src/rollout/kubernetes-api.js";
import { diffObjects, formatDiffLine, withoutServerFields } from "../src/rollout/kubernetes-diff.js";
import { createKubernetesDriver } from "../src/rollout/kubernetes-driver.js";
import { CELL_LABELS, SynthesizedReleases } from "../src/rollout/kubernetes-manifests.js";
import { type FakeKubernetesApi, kubeconfigYaml, startFakeKubernetesApi } from "./kubernetes-api-server.js";
import { deploymentOf, type Json, synthRelease } from "./kubernetes-synth.js";

const CELL1_A = { cellId: "cell-1", az: "eu-west-1a" };
let dir: string;
let manifests: string;
let api: FakeKubernetesApi;
let kubeconfig: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-k8s-driver-"));
  manifests = join(dir, "manifests");
  synthRelease(manifests, "v1");
  synthRelease(manifests, "v2");
  api = await startFakeKubernetesApi();
  kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(api.url, { token: api.token }));
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // no kubeconfig reaches the driver unless a test names one
  vi.stubEnv("KUBECONFIG", "");
  vi.stubEnv("HOME", dir);
  api.requests.length = 0;
  api.deployments.clear();
});

const v1 = (cellId = "cell-1", az = "eu-west-1a") => deploymentOf(join(manifests, "v1"), cellId, az);
const v2 = (cellId = "cell-1", az = "eu-west-1a") => deploymentOf(join(manifests, "v2"), cellId, az);
const image = (d: Json) => d.spec.template.spec.containers[0].image as string;

/** The four fields a release changes, as the driver prints them, with values read from the YAML. */
function releaseChange(from: Json, to: Json): string[] {
  const label = '["cellwallet.io/version"]';
  const version = (d: Json) => JSON.stringify(d.metadata.labels["cellwallet.io/version"]);
  return [
    `~ metadata.labels${label}: ${version(from)} -> ${version(to)}`,
    `~ spec.template.metadata.labels${label}: ${version(from)} -> ${version(to)}`,
    `~ spec.template.spec.containers[name=app].env[name=CELL_VERSION].value: ${version(from)} -> ${version(to)}`,
    `~ spec.template.spec.containers[name=app].image: ${JSON.stringify(image(from))} -> ${JSON.stringify(image(to))}`,
  ];
}
const changeLines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[~+-] /.test(l));

describe("synthesized releases", () => {
  it("are found by the very labels infra/cdk8s writes (the driver keeps its own copy of their names)", () => {
    expect(CELL_LABELS).toEqual({
      component: LABELS.component,
      cell: LABELS.cell,
      az: LABELS.az,
      version: LABELS.version,
    });
  });

  it("finds each cell's Deployment per AZ and release by its labels", () => {
    const releases = SynthesizedReleases.load(manifests);
    for (const cellId of ["cell-1", "cell-2"]) {
      for (const az of ["eu-west-1a", "eu-west-1b", "eu-west-1c"]) {
        expect(releases.versionsOf({ cellId, az })).toEqual(["v1", "v2"]);
        expect(releases.require({ cellId, az }, "v2").manifest).toEqual(v2(cellId, az));
      }
    }
    expect(releases.versionsOf({ cellId: "cell-9", az: "eu-west-1a" })).toEqual([]);
  });

  it("says which release is missing and how to synthesize it", () => {
    const releases = SynthesizedReleases.load(manifests);
    expect(() => releases.require(CELL1_A, "v3")).toThrow(/release v3 .*found: v1, v2.*npm run synth -- --version v3/);
    expect(() => SynthesizedReleases.load(join(dir, "nowhere"))).toThrow(/does not exist/);
  });

  it("refuses a directory where one release of a target is synthesized twice, differently", () => {
    const twice = join(dir, "twice");
    synthRelease(twice, "v1");
    const other = v1();
    other.spec.replicas = 9;
    mkdirSync(join(twice, "edited"));
    writeFileSync(join(twice, "edited", "cell-1.k8s.yaml"), JSON.stringify(other));
    expect(() => SynthesizedReleases.load(twice)).toThrow(
      /release v1 of cell cell-1 in eu-west-1a is synthesized twice/,
    );
    writeFileSync(join(twice, "edited", "cell-1.k8s.yaml"), "a: [unclosed");
    expect(() => SynthesizedReleases.load(twice)).toThrow(/not valid YAML/);
  });
});

describe("the diff", () => {
  const lines = (a: unknown, b: unknown) => diffObjects(a, b).map(formatDiffLine);
  it("keys named list items by name, so one env change is one line, and shows additions and removals", () => {
    const env = (...pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));
    const before = { spec: { containers: [{ name: "app", env: env(["A", "1"], ["B", "2"], ["C", "3"]) }] } };
    const after = { spec: { containers: [{ name: "app", env: env(["A", "1"], ["C", "4"], ["D", "5"]) }] } };
    expect(lines(before, after)).toEqual([
      '~ spec.containers[name=app].env[name=C].value: "3" -> "4"',
      '+ spec.containers[name=app].env[name=D].name: "D"',
      '+ spec.containers[name=app].env[name=D].value: "5"',
      '- spec.containers[name=app].env[name=B].name: "B"',
      '- spec.containers[name=app].env[name=B].value: "2"',
    ]);
  });
  it("quotes keys that are not identifiers, indexes unnamed lists, and ignores what the server writes", () => {
    expect(lines({ metadata: { labels: { "a.io/v": "1" } } }, { metadata: { labels: { "a.io/v": "2" } } })).toEqual([
      '~ metadata.labels["a.io/v"]: "1" -> "2"',
    ]);
    expect(lines({ args: ["x", "y"] }, { args: ["x", "z"] })).toEqual(['~ args[1]: "y" -> "z"']);
    const live = {
      metadata: {
        name: "d",
        resourceVersion: "9",
        managedFields: [{}],
        annotations: { "deployment.kubernetes.io/revision": "3" },
      },
      status: { replicas: 3 },
      spec: { replicas: 3 },
    };
    expect(withoutServerFields(live)).toEqual({ metadata: { name: "d" }, spec: { replicas: 3 } });
    expect(lines({}, {})).toEqual([]);
  });
});

describe("rollout progress, as kubectl rollout status judges it", () => {
  const at = (status: Json, generation = 4) =>
    rolloutProgress({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", generation },
      spec: { replicas: 3 },
      status,
    });
  it("is done only when the new spec is observed and every replica is updated, available and alone", () => {
    expect(at({ observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }).state).toBe(
      "progressing",
    );
    expect(at({ observedGeneration: 4, replicas: 4, updatedReplicas: 2, availableReplicas: 3 })).toEqual({
      state: "progressing",
      detail: "2 of 3 replicas updated",
    });
    expect(at({ observedGeneration: 4, replicas: 4, updatedReplicas: 3, availableReplicas: 3 })).toEqual({
      state: "progressing",
      detail: "1 old replicas pending termination",
    });
    expect(at({ observedGeneration: 4, replicas: 3, updatedReplicas: 3, availableReplicas: 2 })).toEqual({
      state: "progressing",
      detail: "2 of 3 updated replicas available",
    });
    expect(at({ observedGeneration: 4, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })).toEqual({
      state: "done",
    });
    expect(
      at({
        observedGeneration: 4,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "m" }],
      }),
    ).toEqual({ state: "failed", detail: "ProgressDeadlineExceeded: m" });
  });
});

describe("without a cluster (no kubeconfig)", () => {
  it("describes the change from the other synthesized release: the Deployment, its version label, image and CELL_VERSION", async () => {
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: true });
    const text = await driver.describeChange(CELL1_A, "v2");
    expect(text.split("\n")[0]).toBe(
      "cell cell-1, AZ eu-west-1a: Deployment cellwallet/cell-1-eu-west-1a, release v1 -> v2",
    );
    expect(text).toContain(`synthesized release v1 (${join(manifests, "v1", "cell-1.k8s.yaml")}); no cluster`);
    expect(changeLines(text)).toEqual(releaseChange(v1(), v2()));
    expect(text).toContain(
      "apply: PATCH /apis/apps/v1/namespaces/cellwallet/deployments/cell-1-eu-west-1a?fieldManager=cellctl&force=true",
    );
    expect(await driver.currentVersion(CELL1_A)).toBeUndefined(); // two releases, nothing deployed: cannot tell
  });

  it("a dry-run deploy logs the change, then counts as the target's release (a rollback diffs back)", async () => {
    const lines: string[] = [];
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: true, log: (l) => lines.push(l) });
    await driver.deploy(CELL1_A, "v2");
    expect(lines[0]).toMatch(/^dry run, nothing applied: cell cell-1, AZ eu-west-1a: .* release v1 -> v2$/);
    expect(changeLines(lines.join("\n"))).toEqual(releaseChange(v1(), v2()));
    expect(await driver.currentVersion(CELL1_A)).toBe("v2");
    const back = await driver.describeChange(CELL1_A, "v1");
    expect(changeLines(back)).toEqual(releaseChange(v2(), v1()));
    expect(await driver.describeChange(CELL1_A, "v2")).toContain("no change: it already runs release v2");
    expect(api.requests).toEqual([]);
  });

  it("with only the new release synthesized, claims no baseline: every field is shown as applied", async () => {
    const single = join(dir, "single");
    synthRelease(single, "v2");
    const driver = createKubernetesDriver({ manifestsDir: single, dryRun: true });
    const text = await driver.describeChange(CELL1_A, "v2");
    expect(text).toContain("release (unknown) -> v2");
    expect(text).toContain("compared with: nothing (no cluster, and no other release synthesized for this target)");
    expect(changeLines(text)).toContain(`+ spec.template.spec.containers[name=app].image: "${image(v2())}"`);
    expect(changeLines(text).every((l) => l.startsWith("+ "))).toBe(true);
    expect(await driver.currentVersion(CELL1_A)).toBeUndefined();
  });

  it("refuses to apply for real, and to describe a release never synthesized", async () => {
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: false });
    await expect(driver.deploy(CELL1_A, "v2")).rejects.toThrow(/no cluster: no kubeconfig named/);
    await expect(driver.describeChange(CELL1_A, "v9")).rejects.toThrow(/no synthesized Deployment .* release v9/);
    const withCluster = createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig });
    await expect(withCluster.currentVersion({ cellId: "cell-9", az: "eu-west-1a" })).rejects.toThrow(
      /no synthesized Deployment of cell cell-9 in eu-west-1a .*is the cell in the platform config/,
    );
  });
});

describe("against the API server (loopback stand-in)", () => {
  it("applies the synthesized Deployment by server-side apply, as field manager cellctl", async () => {
    const lines: string[] = [];
    const driver = createKubernetesDriver({
      manifestsDir: manifests,
      dryRun: false,
      kubeconfig,
      log: (l) => lines.push(l),
    });
    expect(await driver.currentVersion(CELL1_A)).toBeUndefined(); // not in the cluster yet
    await driver.deploy(CELL1_A, "v1");
    const apply = api.requests.find((r) => r.method === "PATCH");
    expect(apply?.path).toBe("/apis/apps/v1/namespaces/cellwallet/deployments/cell-1-eu-west-1a");
    expect(apply?.headers["content-type"]).toBe("application/apply-patch+yaml");
    expect(apply?.headers.authorization).toBe(`Bearer ${api.token}`);
    expect(Object.fromEntries(apply?.query ?? [])).toEqual({ fieldManager: "cellctl", force: "true" });
    expect(JSON.parse(apply?.body ?? "")).toEqual(v1());
    expect(lines).toEqual([
      `applied Deployment cellwallet/cell-1-eu-west-1a (cell cell-1, AZ eu-west-1a): release v1, ${image(v1())}`,
      "Deployment cellwallet/cell-1-eu-west-1a rolled out: every replica runs release v1",
    ]);
    expect(await driver.currentVersion(CELL1_A)).toBe("v1");
    await driver.deploy(CELL1_A, "v2");
    expect(await driver.currentVersion(CELL1_A)).toBe("v2");
    expect(image(api.deployments.get("cellwallet/cell-1-eu-west-1a"))).toBe(image(v2()));
  });

  it("resolves a deploy only once every pod of the AZ runs the release (the Service answers from any of them)", async () => {
    const lines: string[] = [];
    const driver = createKubernetesDriver({
      manifestsDir: manifests,
      dryRun: false,
      kubeconfig,
      log: (l) => lines.push(l),
    });
    api.rolloutPolls = 2;
    try {
      await driver.deploy(CELL1_A, "v2");
    } finally {
      api.rolloutPolls = 0;
    }
    const replicas = v2().spec.replicas;
    expect(lines.slice(1)).toEqual([
      `waiting for Deployment cellwallet/cell-1-eu-west-1a to roll out: 1 of ${replicas} replicas updated`,
      "Deployment cellwallet/cell-1-eu-west-1a rolled out: every replica runs release v2",
    ]);
    expect(api.requests.map((r) => r.method)).toEqual(["PATCH", "GET", "GET", "GET"]);
    expect(api.deployments.get("cellwallet/cell-1-eu-west-1a").status.updatedReplicas).toBe(replicas);
  });

  it("fails a deploy whose pods never roll out (ProgressDeadlineExceeded), so the controller rolls it back", async () => {
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig, log: () => {} });
    api.failNextRollout('ReplicaSet "cell-1-eu-west-1a-7d9" has timed out progressing.');
    await expect(driver.deploy(CELL1_A, "v2")).rejects.toThrow(
      /did not roll out: ProgressDeadlineExceeded: ReplicaSet "cell-1-eu-west-1a-7d9" has timed out progressing/,
    );
  });

  it("describes the change against the live Deployment and the server's dry run, storing nothing", async () => {
    const writer = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig, log: () => {} });
    await writer.deploy(CELL1_A, "v1");
    const live = structuredClone(api.deployments.get("cellwallet/cell-1-eu-west-1a"));
    api.requests.length = 0;
    const lines: string[] = [];
    const dry = createKubernetesDriver({
      manifestsDir: manifests,
      dryRun: true,
      kubeconfig,
      log: (l) => lines.push(l),
    });
    await dry.deploy(CELL1_A, "v2");
    const text = lines.join("\n");
    expect(text).toContain("cell cell-1, AZ eu-west-1a: Deployment cellwallet/cell-1-eu-west-1a, release v1 -> v2");
    expect(text).toContain(`the live Deployment in context test (${api.url}), against the API server's dry run`);
    // only what the release changes: the server's defaults and bookkeeping are on both sides, not in the diff
    expect(changeLines(text)).toEqual(releaseChange(v1(), v2()));
    expect(api.requests.map((r) => `${r.method} ${r.query.get("dryRun") ?? ""}`)).toEqual(["GET ", "PATCH All"]);
    expect(api.deployments.get("cellwallet/cell-1-eu-west-1a")).toEqual(live);
    expect(await dry.currentVersion(CELL1_A)).toBe("v1");
  });

  it("shows a Deployment not yet in the cluster as created, field by field", async () => {
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig });
    const text = await driver.describeChange({ cellId: "cell-2", az: "eu-west-1c" }, "v2");
    expect(text.split("\n")[0]).toBe(
      `cell cell-2, AZ eu-west-1c: Deployment cellwallet/cell-2-eu-west-1c, not in the cluster -> release v2 (${image(v2("cell-2", "eu-west-1c"))}): the apply creates it`,
    );
    expect(changeLines(text)).toContain(
      `+ spec.template.spec.containers[name=app].image: "${image(v2("cell-2", "eu-west-1c"))}"`,
    );
    expect(changeLines(text)).toContain("+ spec.replicas: 2");
    expect(changeLines(text).every((l) => l.startsWith("+ "))).toBe(true);
    expect(api.requests.map((r) => r.method)).toEqual(["GET"]);
  });

  it("applies into the namespace asked for, in the path and the body", async () => {
    const driver = createKubernetesDriver({
      manifestsDir: manifests,
      dryRun: false,
      kubeconfig,
      namespace: "wallet-staging",
      log: () => {},
    });
    await driver.deploy(CELL1_A, "v2");
    const apply = api.requests.find((r) => r.method === "PATCH");
    expect(apply?.path).toBe("/apis/apps/v1/namespaces/wallet-staging/deployments/cell-1-eu-west-1a");
    expect(JSON.parse(apply?.body ?? "").metadata.namespace).toBe("wallet-staging");
    expect(await driver.currentVersion(CELL1_A)).toBe("v2");
  });

  it("gets its token from an exec credential plugin, as aws eks get-token gives it", async () => {
    const plugin = join(dir, "kubeconfig-exec");
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: api.token, expirationTimestamp: "2099-01-01T00:00:00Z" },
    });
    writeFileSync(
      plugin,
      kubeconfigYaml(api.url, {
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: process.execPath,
          args: ["-e", `process.stdout.write(${JSON.stringify(credential)})`],
        },
      }),
    );
    const driver = createKubernetesDriver({
      manifestsDir: manifests,
      dryRun: false,
      kubeconfig: plugin,
      log: () => {},
    });
    await driver.deploy(CELL1_A, "v1");
    expect(await driver.currentVersion(CELL1_A)).toBe("v1");
    expect(api.requests.every((r) => r.headers.authorization === `Bearer ${api.token}`)).toBe(true);
  });

  it("speaks TLS as EKS does: trusts the kubeconfig's CA, refuses an unknown certificate unless told to skip", async () => {
    // a throwaway CA-less self-signed certificate for 127.0.0.1 (openssl, milliseconds)
    const key = join(dir, "tls.key");
    const cert = join(dir, "tls.crt");
    const openssl = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=kubernetes",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { encoding: "utf8" },
    );
    expect(openssl.status, openssl.stderr).toBe(0);
    const tlsApi = await startFakeKubernetesApi("tls-token", {
      key: readFileSync(key, "utf8"),
      cert: readFileSync(cert, "utf8"),
    });
    try {
      const config = (name: string, cluster: Record<string, unknown>) => {
        const file = join(dir, name);
        writeFileSync(file, kubeconfigYaml(tlsApi.url, { token: "tls-token" }, undefined, cluster));
        return file;
      };
      const trusted = config("kubeconfig-tls", { "certificate-authority-data": readFileSync(cert).toString("base64") });
      const driver = createKubernetesDriver({
        manifestsDir: manifests,
        dryRun: false,
        kubeconfig: trusted,
        log: () => {},
      });
      await driver.deploy(CELL1_A, "v2");
      expect(await driver.currentVersion(CELL1_A)).toBe("v2");
      const byFile = config("kubeconfig-tls-file", { "certificate-authority": "tls.crt" }); // relative to the kubeconfig
      expect(
        await createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig: byFile }).currentVersion(
          CELL1_A,
        ),
      ).toBe("v2");
      const untrusted = config("kubeconfig-tls-untrusted", {});
      await expect(
        createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig: untrusted }).currentVersion(
          CELL1_A,
        ),
      ).rejects.toThrow(/self[- ]signed certificate/);
      const skip = config("kubeconfig-tls-skip", { "insecure-skip-tls-verify": true });
      expect(
        await createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig: skip }).currentVersion(
          CELL1_A,
        ),
      ).toBe("v2");
    } finally {
      await tlsApi.close();
    }
  });

  it("finds the cluster through $KUBECONFIG too", async () => {
    vi.stubEnv("KUBECONFIG", `${join(dir, "missing")}:${kubeconfig}`);
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, log: () => {} });
    await driver.deploy(CELL1_A, "v2");
    expect(api.deployments.has("cellwallet/cell-1-eu-west-1a")).toBe(true);
  });

  it("else ~/.kube/config, which $KUBECONFIG (as for kubectl) hides", async () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(join(home, ".kube", "config"), kubeconfigYaml(api.url, { token: api.token }));
    vi.stubEnv("HOME", home);
    await createKubernetesDriver({ manifestsDir: manifests, dryRun: false, log: () => {} }).deploy(CELL1_A, "v1");
    expect(await createKubernetesDriver({ manifestsDir: manifests, dryRun: true }).currentVersion(CELL1_A)).toBe("v1");
    vi.stubEnv("KUBECONFIG", join(dir, "missing"));
    await expect(
      createKubernetesDriver({ manifestsDir: manifests, dryRun: false }).deploy(CELL1_A, "v2"),
    ).rejects.toThrow(/no cluster/);
  });

  it("fails the deploy with the API server's answer when it refuses, and when it is unreachable", async () => {
    const driver = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig, log: () => {} });
    api.failNext("PATCH", 403, 'deployments.apps "cell-1-eu-west-1a" is forbidden: User "ci" cannot patch');
    await expect(driver.deploy(CELL1_A, "v2")).rejects.toThrow(/answered 403: .*cannot patch/);
    expect(api.deployments.size).toBe(0);
    const badToken = join(dir, "kubeconfig-bad-token");
    writeFileSync(badToken, kubeconfigYaml(api.url, { token: "wrong" }));
    await expect(
      createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig: badToken }).deploy(CELL1_A, "v2"),
    ).rejects.toThrow(/answered 401/);
    const closed = await startFakeKubernetesApi();
    await closed.close();
    const unreachable = join(dir, "kubeconfig-unreachable");
    writeFileSync(unreachable, kubeconfigYaml(closed.url, { token: "t" }));
    await expect(
      createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig: unreachable }).currentVersion(
        CELL1_A,
      ),
    ).rejects.toThrow(/ECONNREFUSED/);
    await expect(
      createKubernetesDriver({ manifestsDir: manifests, dryRun: true, kubeconfig: join(dir, "nope") }).currentVersion(
        CELL1_A,
      ),
    ).rejects.toThrow(/kubeconfig .* does not exist/);
  });
});
