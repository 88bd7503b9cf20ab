/**
 * Test helpers around the real synthesized manifests: `npm run synth -- --version <v>` run as the process
 * users run (infra/cdk8s/dist/main.js, built by `npx tsc -b`), and an independent reading of its YAML.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const SYNTH = join(new URL("../..", import.meta.url).pathname, "infra/cdk8s/dist/main.js");

/** Synthesizes release `version` of DEFAULT_PLATFORM into `<outdir>/<version>/`. */
export function synthRelease(outdir: string, version: string, env: Record<string, string> = {}): void {
  const run = spawnSync(process.execPath, [SYNTH, "--version", version], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", CDK8S_OUTDIR: outdir, ...env },
  });
  if (run.status !== 0) throw new Error(`synth ${version} failed: ${run.stderr}`);
}

// biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON
export type Json = any;

const read = new Map<string, Json[]>();

/** Every cell Deployment of a synthesized release, read straight from its YAML files (once per directory). */
export function cellDeploymentsOf(releaseDir: string): Json[] {
  const known = read.get(releaseDir);
  if (known) return structuredClone(known);
  const found = readdirSync(releaseDir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(readFileSync(join(releaseDir, f), "utf8")).map((d) => d.toJS() as Json))
    .filter((m) => m?.kind === "Deployment" && m.metadata.labels?.["app.kubernetes.io/component"] === "cell");
  read.set(releaseDir, found);
  return structuredClone(found);
}

export function deploymentOf(releaseDir: string, cellId: string, az: string): Json {
  const found = cellDeploymentsOf(releaseDir).find(
    (d) => d.metadata.labels["cellwallet.io/cell"] === cellId && d.metadata.labels["cellwallet.io/az"] === az,
  );
  if (!found) throw new Error(`no Deployment of ${cellId} in ${az} under ${releaseDir}`);
  return found;
}
