// A release of the cells: `npm run synth -- --version <v>` and synthCellDeployment(..., { version }).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  cellImageOf,
  cellWorkloadName,
  DEFAULT_PLATFORM,
  LABELS,
  type Manifest,
  type PlatformConfig,
  platformManifests,
  synthCellDeployment,
} from "../src/index.js";

const root = new URL("../../../", import.meta.url).pathname;
const main = join(root, "infra", "cdk8s", "dist", "main.js");
// biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON
const spec = (m: Manifest) => m.spec as any;
const labelsOf = (m: Manifest) => (m.metadata.labels ?? {}) as Record<string, string>;
const config: PlatformConfig = { ...DEFAULT_PLATFORM, cellImage: "registry.example:5000/team/cell-service:0.1.0" };

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("cellImageOf", () => {
  it("replaces the tag with the version, keeps a registry port and a digest", () => {
    expect(cellImageOf(config)).toBe("registry.example:5000/team/cell-service:0.1.0");
    expect(cellImageOf({ ...config, version: "v2" })).toBe("registry.example:5000/team/cell-service:v2");
    expect(cellImageOf({ cellImage: "registry.example:5000/cell-service", version: "1.2.3" })).toBe(
      "registry.example:5000/cell-service:1.2.3",
    );
    expect(cellImageOf({ cellImage: "repo/cell@sha256:abc", version: "v2" })).toBe("repo/cell@sha256:abc");
  });
  it("refuses a version that cannot be a label value and an image tag", () => {
    for (const bad of ["", "v 2", "v2/evil", "-v2", "v2-", `v${"9".repeat(63)}`, "v2:latest"]) {
      expect(() => cellImageOf({ ...config, version: bad }), bad).toThrow(/not a valid label value/);
    }
  });
});

describe("a release of the cells", () => {
  const v1 = platformManifests({ ...config, version: "v1" });
  const v2 = platformManifests({ ...config, version: "v2" });
  const cellDeployments = (ms: Manifest[]) =>
    ms.filter((m) => m.kind === "Deployment" && labelsOf(m)[LABELS.component] === "cell");

  it("puts the version in every cell Deployment's image and in a label of the Deployment and its pods", () => {
    const deployments = cellDeployments(v2);
    expect(deployments).toHaveLength(config.cells.length * config.azs.length);
    for (const d of deployments) {
      expect(labelsOf(d)[LABELS.version]).toBe("v2");
      expect(spec(d).template.metadata.labels[LABELS.version]).toBe("v2");
      expect(spec(d).template.spec.containers[0].image).toBe("registry.example:5000/team/cell-service:v2");
      // the cell reports it on /ready and as cellwallet_build_info{version}
      expect(spec(d).template.spec.containers[0].env).toContainEqual({ name: "CELL_VERSION", value: "v2" });
    }
  });

  it("keeps the names and every selector of the default synthesis (selectors are immutable)", () => {
    const unversioned = platformManifests(config);
    const key = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
    expect(v2.map(key)).toEqual(unversioned.map(key));
    for (const d of cellDeployments(v2)) {
      const before = unversioned.find((m) => key(m) === key(d)) as Manifest;
      expect(spec(d).selector).toEqual(spec(before).selector);
      expect(spec(d).selector.matchLabels[LABELS.version]).toBeUndefined();
      expect(spec(d).template.spec.topologySpreadConstraints).toEqual(
        spec(before).template.spec.topologySpreadConstraints,
      );
    }
    // Services and PDBs select every release's pods: the same objects in both releases
    for (const kind of ["Service", "PodDisruptionBudget", "ConfigMap", "NetworkPolicy"]) {
      expect(v2.filter((m) => m.kind === kind)).toEqual(v1.filter((m) => m.kind === kind));
    }
  });

  it("differs between two releases only in the version label, CELL_VERSION and the image", () => {
    const a = synthCellDeployment(config, "cell-2", "eu-west-1b", { version: "v1" });
    const b = synthCellDeployment(config, "cell-2", "eu-west-1b", { version: "v2" });
    const text = JSON.stringify(a)
      .replaceAll('"cellwallet.io/version":"v1"', '"cellwallet.io/version":"v2"')
      .replace('{"name":"CELL_VERSION","value":"v1"}', '{"name":"CELL_VERSION","value":"v2"}')
      .replace("cell-service:v1", "cell-service:v2");
    expect(JSON.parse(text)).toEqual(b);
    expect(a.metadata.name).toBe(cellWorkloadName("cell-2", "eu-west-1b"));
  });

  it("pins a release by digest when the image is given as one", () => {
    const d = synthCellDeployment(config, "cell-1", "eu-west-1a", {
      version: "v3",
      image: "registry.example/cell-service@sha256:0123",
    });
    expect(spec(d).template.spec.containers[0].image).toBe("registry.example/cell-service@sha256:0123");
    expect(labelsOf(d)[LABELS.version]).toBe("v3");
    expect(JSON.stringify(d.metadata.annotations)).not.toContain("CKV_K8S_43");
  });
});

describe("npm run synth -- --version (the synth process)", () => {
  function synth(args: string[], env: Record<string, string> = {}) {
    const outdir = mkdtempSync(join(tmpdir(), "cellwallet-release-"));
    dirs.push(outdir);
    const result = spawnSync(process.execPath, [main, ...args], {
      encoding: "utf8",
      env: { ...process.env, CDK8S_OUTDIR: outdir, ...env },
    });
    return { ...result, outdir };
  }

  it("writes the release into <outdir>/<version>/ with the version's image", () => {
    const run = synth(["--version", "v7"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("release v7");
    const files = readdirSync(join(run.outdir, "v7")).sort();
    expect(files).toEqual([
      "cell-1.k8s.yaml",
      "cell-2.k8s.yaml",
      "control-plane-jobs.k8s.yaml",
      "namespace.k8s.yaml",
      "routers.k8s.yaml",
    ]);
    const yaml = readFileSync(join(run.outdir, "v7", "cell-1.k8s.yaml"), "utf8");
    expect(yaml.match(/cellwallet\.io\/version: v7/g)).toHaveLength(2 * DEFAULT_PLATFORM.azs.length);
    expect(yaml).toContain(`image: ${cellImageOf({ ...DEFAULT_PLATFORM, version: "v7" })}`);
  });

  it("takes the version and a digest from the environment too", () => {
    const run = synth([], { CELLWALLET_VERSION: "2.0.0", CELLWALLET_CELL_IMAGE: "r.example/cell@sha256:feed" });
    expect(run.status, run.stderr).toBe(0);
    const yaml = readFileSync(join(run.outdir, "2.0.0", "cell-2.k8s.yaml"), "utf8");
    expect(yaml).toContain("image: r.example/cell@sha256:feed");
    expect(yaml).toContain("cellwallet.io/version: 2.0.0");
  });

  it("without a version writes the default manifests, without a version label", () => {
    const run = synth([]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(run.outdir, "cell-1.k8s.yaml"), "utf8")).not.toContain("cellwallet.io/version");
  });

  it("refuses a bad version or an unknown flag with exit code 2, writing nothing", () => {
    for (const args of [["--version", "v2/../x"], ["--bogus"], ["--cell-image", "r/cell@sha256:1"]]) {
      const run = synth(args);
      expect(run.status, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/usage: npm run synth/);
      expect(readdirSync(run.outdir)).toEqual([]);
    }
  });
});
