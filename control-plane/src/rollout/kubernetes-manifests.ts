/**
 * The synthesized releases the kubernetes driver applies: every cell Deployment found in the YAML files
 * under a manifests directory (`npm run synth -- --version v2` writes `<dir>/v2/*.k8s.yaml`), indexed by
 * cell, AZ and release. Deployments are recognised by the labels infra/cdk8s puts on them, not by file or
 * object names, so the driver does not repeat the naming rule and a directory can hold several releases.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { RolloutTarget } from "./rollout-driver.js";

/** The labels of infra/cdk8s (`LABELS` in infra/cdk8s/src/config.ts): control-plane cannot import infra. */
export const CELL_LABELS = {
  component: "app.kubernetes.io/component",
  cell: "cellwallet.io/cell",
  az: "cellwallet.io/az",
  version: "cellwallet.io/version",
} as const;

export interface DeploymentManifest {
  apiVersion: string;
  kind: "Deployment";
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface SynthesizedDeployment {
  target: RolloutTarget;
  version: string;
  manifest: DeploymentManifest;
  /** The file it came from, for messages. */
  file: string;
}

/**
 * The release a Deployment runs: its `cellwallet.io/version` label, else the tag of its first container's
 * image (manifests synthesized without a version, and Deployments applied before releases were labelled),
 * else undefined (an image pinned only by digest names no release).
 */
export function versionOfDeployment(deployment: unknown): string | undefined {
  const d = deployment as {
    metadata?: { labels?: Record<string, string> };
    spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
  };
  const label = d?.metadata?.labels?.[CELL_LABELS.version];
  if (typeof label === "string" && label !== "") return label;
  return imageTag(d?.spec?.template?.spec?.containers?.[0]?.image);
}

/** `repo:tag` → tag; a registry port (`host:5000/repo`) is not a tag; a digest-pinned image has none. */
export function imageTag(image: string | undefined): string | undefined {
  if (typeof image !== "string" || image.includes("@")) return undefined;
  const tagColon = image.indexOf(":", image.lastIndexOf("/") + 1);
  return tagColon === -1 ? undefined : image.slice(tagColon + 1) || undefined;
}

function yamlFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...yamlFiles(path));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) files.push(path);
  }
  return files;
}

export class ManifestsError extends Error {}

/** Parsed directories, reused while no YAML file under them changed (same paths, sizes and mtimes). */
const parsed = new Map<string, { signature: string; releases: SynthesizedReleases }>();

export class SynthesizedReleases {
  private constructor(
    readonly dir: string,
    private readonly deployments: SynthesizedDeployment[],
  ) {}

  /** Reads every YAML file under `dir` (recursively). A file that is not valid YAML is an error, not skipped. */
  static load(dir: string): SynthesizedReleases {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir)
      throw new ManifestsError(`manifests directory ${dir} does not exist (run: npm run synth -- --version <v>)`);
    const files = yamlFiles(dir);
    const signature = files
      .map((file) => {
        const stat = statSync(file);
        return `${file}:${stat.size}:${stat.mtimeMs}`;
      })
      .join("\n");
    const cached = parsed.get(dir);
    if (cached?.signature === signature) return cached.releases;
    const found: SynthesizedDeployment[] = [];
    for (const file of files) {
      for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
        if (document.errors.length > 0) {
          throw new ManifestsError(`${file}: not valid YAML: ${document.errors[0]?.message ?? "parse error"}`);
        }
        const object = document.toJS() as Partial<DeploymentManifest> | null;
        if (object?.kind !== "Deployment" || !object.metadata) continue;
        const labels = object.metadata.labels ?? {};
        const cellId = labels[CELL_LABELS.cell];
        const az = labels[CELL_LABELS.az];
        if (labels[CELL_LABELS.component] !== "cell" || !cellId || !az) continue;
        const version = versionOfDeployment(object);
        if (version === undefined) continue;
        const duplicate = found.find((d) => d.target.cellId === cellId && d.target.az === az && d.version === version);
        const manifest = object as DeploymentManifest;
        if (duplicate) {
          // the same release synthesized twice (say the default synth and --version with the same tag) is fine
          // when identical; two different Deployments claiming one release would make the driver guess
          if (JSON.stringify(duplicate.manifest) === JSON.stringify(manifest)) continue;
          throw new ManifestsError(
            `release ${version} of cell ${cellId} in ${az} is synthesized twice, differently: ${duplicate.file} and ${file}`,
          );
        }
        found.push({ target: { cellId, az }, version, manifest, file });
      }
    }
    const releases = new SynthesizedReleases(dir, found);
    parsed.set(dir, { signature, releases });
    return releases;
  }

  /** The releases synthesized for a target, in file order. */
  versionsOf(target: RolloutTarget): string[] {
    return this.forTarget(target).map((d) => d.version);
  }

  find(target: RolloutTarget, version: string): SynthesizedDeployment | undefined {
    return this.forTarget(target).find((d) => d.version === version);
  }

  /** Like find, but a missing release is an error that says how to make it. */
  require(target: RolloutTarget, version: string): SynthesizedDeployment {
    const found = this.find(target, version);
    if (found) return found;
    const known = this.versionsOf(target);
    throw new ManifestsError(
      `no synthesized Deployment of cell ${target.cellId} in ${target.az} for release ${version} under ${this.dir}` +
        ` (found: ${known.length > 0 ? known.join(", ") : "none"}); run: npm run synth -- --version ${version}` +
        " with CDK8S_OUTDIR set to that directory",
    );
  }

  private forTarget(target: RolloutTarget): SynthesizedDeployment[] {
    return this.deployments.filter((d) => d.target.cellId === target.cellId && d.target.az === target.az);
  }
}
