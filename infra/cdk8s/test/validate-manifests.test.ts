// Real tools on the synthesized manifests: kubeconform (strict, Kubernetes schemas available offline,
// prepared by scripts/setup-test-tools.mjs) and checkov's Kubernetes policies.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlatform, DEFAULT_PLATFORM } from "../src/index.js";

const root = new URL("../../../", import.meta.url).pathname;
const KUBERNETES_VERSION = "1.33.0";
const kubeconform = join(root, ".tools", "bin", "kubeconform");
const schemaLocation = join(
  root,
  ".tools",
  "k8s-schemas",
  "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}",
  "{{ .ResourceKind }}{{ .KindSuffix }}.json",
);
const checkov = join(root, ".venv", "bin", "checkov");

let dir: string;
let files: string[];

function runKubeconform(paths: string[]) {
  return spawnSync(
    kubeconform,
    [
      "-strict",
      "-summary",
      "-output",
      "json",
      "-kubernetes-version",
      KUBERNETES_VERSION,
      "-schema-location",
      schemaLocation,
      ...paths,
    ],
    { encoding: "utf8" },
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-k8s-"));
  buildPlatform(DEFAULT_PLATFORM, dir).synth();
  // a named release too (`npm run synth -- --version v2`): version labels and the retagged image
  buildPlatform({ ...DEFAULT_PLATFORM, version: "v2" }, join(dir, "v2")).synth();
  files = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join(dir, f)),
    ...readdirSync(join(dir, "v2")).map((f) => join(dir, "v2", f)),
  ];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("synthesized manifests", () => {
  it("are valid against the Kubernetes schemas (kubeconform -strict), every resource checked", () => {
    const result = runKubeconform(files);
    expect(result.error).toBeUndefined();
    const report = JSON.parse(result.stdout) as { summary: Record<string, number>; resources: unknown[] };
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const documents = files.reduce((n, f) => n + readFileSync(f, "utf8").split(/^---$/m).length, 0);
    expect(report.summary.valid).toBe(documents);
    expect(report.summary).toMatchObject({ invalid: 0, errors: 0, skipped: 0 });
  });

  it("kubeconform rejects what the schema forbids (the validation is not vacuous)", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i, readinesProbe: {}}]\n",
    );
    try {
      const result = runKubeconform([bad]);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/readinesProbe/);
    } finally {
      rmSync(bad);
    }
  });

  it("pass checkov's Kubernetes policies (accepted findings are skipped with reasons in the manifests)", () => {
    const result = spawnSync(
      checkov,
      ["-d", dir, "--framework", "kubernetes", "--quiet", "--compact", "--skip-download", "-o", "json"],
      { encoding: "utf8", env: { ...process.env, BC_SKIP_MAPPING: "TRUE" } },
    );
    expect(result.error).toBeUndefined();
    const report = JSON.parse(result.stdout) as { summary: { passed: number; failed: number; skipped: number } };
    const failed = (JSON.parse(result.stdout).results?.failed_checks ?? []).map(
      (c: { check_id: string; resource: string }) => `${c.check_id} ${c.resource}`,
    );
    expect(failed).toEqual([]);
    expect(result.status).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(100);
    // every skip is one of the two justified in CHECKOV_ACCEPTED, never more
    const skipped = (JSON.parse(result.stdout).results?.skipped_checks ?? []) as {
      check_id: string;
      suppress_comment: string;
    }[];
    for (const s of skipped) {
      expect(["CKV_K8S_43", "CKV_K8S_35"]).toContain(s.check_id);
      expect(s.suppress_comment.length).toBeGreaterThan(20);
    }
  });
});
