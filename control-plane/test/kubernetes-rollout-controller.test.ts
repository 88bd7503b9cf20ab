/**
 * The kubernetes driver inside the real rollout controller: `cellctl rollout start --driver kubernetes` as a
 * process, applying releases synthesized by the real `npm run synth -- --version` to a loopback stand-in of
 * the API server (NOT a real API server), while stand-in "pods" play the kubelet's part: an applied
 * Deployment's CELL_VERSION becomes what that cell AZ reports on /ready, and its /metrics count traffic (a
 * faulty release answers a third of it with 5xx). A healthy release is applied step by step in the planned
 * order, each apply the synthesized Deployment of that cell and AZ; a faulty one is applied to the canary's
 * first AZ only, the alarm fires, the previous release's Deployment is applied back, and nothing else runs.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { createKubernetesDriver } from "../src/rollout/kubernetes-driver.js";
import { type FakeKubernetesApi, kubeconfigYaml, startFakeKubernetesApi } from "./kubernetes-api-server.js";
import { deploymentOf, type Json, synthRelease } from "./kubernetes-synth.js";

const AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const CELLS = ["cell-1", "cell-2"];
const ORDER = ["cell-2", "cell-1"].flatMap((cellId) => AZS.map((az) => `${cellId}/${az}`));

let dir: string;
let manifests: string;
let kubeconfig: string;
let api: FakeKubernetesApi;
let pods: Server;
let podsUrl: string;
let env: Record<string, string>;
/** What each cell AZ's pods run and have served (cumulative, as Prometheus counters). */
const state = new Map<string, { version: string; requests: number; errors: number }>();

function metricsOf(key: string): string {
  const pod = state.get(key);
  if (!pod) return "";
  // every scrape finds 40 more API requests; a faulty release (v3) fails a third of them
  pod.requests += 40;
  if (pod.version === "v3") pod.errors += 13;
  const route = 'route="/api/v1/wallets/:walletId"';
  return [
    `cellwallet_http_requests_total{method="GET",${route},status="200"} ${pod.requests - pod.errors}`,
    `cellwallet_http_requests_total{method="GET",${route},status="500"} ${pod.errors}`,
    `cellwallet_http_request_duration_seconds_bucket{${route},le="0.05"} ${pod.requests}`,
    `cellwallet_http_request_duration_seconds_bucket{${route},le="+Inf"} ${pod.requests}`,
    "",
  ].join("\n");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-k8s-controller-"));
  manifests = join(dir, "manifests");
  for (const version of ["v1", "v2", "v3"]) synthRelease(manifests, version);
  pods = createServer((req, res) => {
    const [, cellId, az, what] = (req.url ?? "").split("/");
    const key = `${cellId}/${az}`;
    const pod = state.get(key);
    if (!pod) return res.writeHead(404).end();
    if (what === "ready") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ status: "ready", version: pod.version }));
    }
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end(metricsOf(key));
  });
  await new Promise<void>((resolve) => pods.listen(0, "127.0.0.1", resolve));
  podsUrl = `http://127.0.0.1:${(pods.address() as AddressInfo).port}`;
  api = await startFakeKubernetesApi();
  // the kubelet: an applied Deployment's pods come up on its CELL_VERSION
  api.onApply = (deployment: Json) => {
    const labels = deployment.metadata.labels;
    const release = deployment.spec.template.spec.containers[0].env.find((e: Json) => e.name === "CELL_VERSION");
    const key = `${labels["cellwallet.io/cell"]}/${labels["cellwallet.io/az"]}`;
    state.set(key, { ...(state.get(key) ?? { requests: 0, errors: 0 }), version: release.value });
  };
  kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(api.url, { token: api.token }));
  env = {
    WALLET_DATA_DIR: join(dir, "data"),
    PLACEMENT_SQLITE_PATH: join(dir, "registry.sqlite"),
    CELLCTL_OPERATOR: "k-controller-test",
    HOME: dir,
  };
  for (const cellId of CELLS) {
    const endpoints = AZS.flatMap((az) => ["--endpoint", `${az}=${podsUrl}/${cellId}/${az}`]);
    const registered = await runCellctl(["cells", "register", cellId, "--capacity", "100", ...endpoints], env);
    expect(registered.code, registered.stderr).toBe(0);
  }
  // the platform runs v1 everywhere, installed through the same driver
  const installer = createKubernetesDriver({ manifestsDir: manifests, dryRun: false, kubeconfig, log: () => {} });
  for (const cellId of CELLS) for (const az of AZS) await installer.deploy({ cellId, az }, "v1");
}, 60_000);

afterAll(async () => {
  await api?.close();
  await new Promise((resolve) => pods?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function plan(version: string): string {
  const file = join(dir, `plan-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      version,
      waves: [["cell-2"], ["cell-1"]],
      azOrder: AZS,
      bake: { minSeconds: 1, minRequests: 50 },
      alarms: { errorRateForSeconds: 0.5, windowSeconds: 2, minWindowRequests: 20, p99RatioAboveBaseline: 100 },
      readyTimeoutSeconds: 10,
      scrapeIntervalSeconds: 0.2,
    }),
  );
  return file;
}

/** The applies the API server took for real (not the dry runs), as "cell/az version". */
function applies(): string[] {
  return api.requests
    .filter((r) => r.method === "PATCH" && r.query.get("dryRun") === null)
    .map((r) => {
      const body = JSON.parse(r.body);
      return `${body.metadata.labels["cellwallet.io/cell"]}/${body.metadata.labels["cellwallet.io/az"]} ${body.metadata.labels["cellwallet.io/version"]}`;
    });
}

const start = (version: string) =>
  runCellctl(
    ["rollout", "start", "--plan", plan(version), "--driver", "kubernetes", "--manifests", manifests].concat([
      "--kubeconfig",
      kubeconfig,
      "--yes",
      "--json",
    ]),
    env,
  );

describe("cellctl rollout start --driver kubernetes (controller, driver, stand-in API server and pods)", () => {
  it("applies a healthy release cell AZ by cell AZ in the planned order, each its synthesized Deployment", async () => {
    api.requests.length = 0;
    const run = await start("v2");
    expect(run.code, run.stderr).toBe(0);
    const final = JSON.parse(run.stdout);
    expect(final.status).toBe("completed");
    expect(final.steps.map((s: Json) => `${s.cellId}/${s.az}`)).toEqual(ORDER);
    expect(final.steps.every((s: Json) => s.previousVersion === "v1")).toBe(true);
    expect(applies()).toEqual(ORDER.map((target) => `${target} v2`));
    for (const request of api.requests.filter((r) => r.method === "PATCH" && r.query.get("dryRun") === null)) {
      const body = JSON.parse(request.body);
      const labels = body.metadata.labels;
      expect(body).toEqual(
        deploymentOf(join(manifests, "v2"), labels["cellwallet.io/cell"], labels["cellwallet.io/az"]),
      );
      expect(request.query.get("fieldManager")).toBe("cellctl");
    }
    expect([...state.values()].every((pod) => pod.version === "v2")).toBe(true);
    expect(run.stderr).toContain("rolled out: every replica runs release v2");
  }, 60_000);

  it("rolls a faulty release back on the alarm by applying the previous release, and stops there", async () => {
    api.requests.length = 0;
    const run = await start("v3");
    expect(run.code, run.stderr).toBe(1);
    const final = JSON.parse(run.stdout);
    expect(final.status).toBe("rolled-back");
    // the canary's first AZ got v3, then v2 back; no other Deployment was touched
    expect(applies()).toEqual(["cell-2/eu-west-1a v3", "cell-2/eu-west-1a v2"]);
    expect(final.steps[0]).toMatchObject({
      cellId: "cell-2",
      az: "eu-west-1a",
      phase: "rolled-back",
      previousVersion: "v2",
    });
    expect(final.steps[0].reason).toMatch(/error rate/i);
    expect(final.steps.slice(1).every((s: Json) => s.phase === "pending")).toBe(true);
    expect([...state.values()].every((pod) => pod.version === "v2")).toBe(true);
    const live = api.deployments.get("cellwallet/cell-2-eu-west-1a");
    expect(live.spec.template.spec.containers[0].image).toBe(
      deploymentOf(join(manifests, "v2"), "cell-2", "eu-west-1a").spec.template.spec.containers[0].image,
    );
  }, 60_000);
});
