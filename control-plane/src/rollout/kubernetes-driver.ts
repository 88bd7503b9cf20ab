/**
 * The kubernetes rollout driver: puts a release on one cell in one AZ by applying the cdk8s-synthesized
 * Deployment of that cell and AZ (`npm run synth -- --version <v>`, read from `manifestsDir`) through the
 * Kubernetes API with server-side apply (field manager `cellctl`), then waiting until the Deployment has
 * rolled every pod (a Service answers from any pod, so only then do /ready and /metrics speak for the
 * release). Rolling back is applying the previous release's synthesized Deployment: no new build.
 *
 * The dry run (`dryRun: true`, and `describeChange` always) changes nothing and prints the exact change:
 * with a cluster, the live Deployment against the API server's own dry run of the apply (admission and
 * defaulting included, as `kubectl diff`); with no kubeconfig at all, the baseline is the synthesized
 * Deployment of the release the target runs as far as this process knows (the release last dry-run
 * deployed to it, else the only other release synthesized for it).
 */

import { APPLY_CONTENT_TYPE, deploymentPath, FIELD_MANAGER, KubernetesApi } from "./kubernetes-api.js";
import { diffObjects, formatDiffLine, withoutServerFields } from "./kubernetes-diff.js";
import { findKubeconfig, readKubeconfig } from "./kubernetes-kubeconfig.js";
import {
  type DeploymentManifest,
  ManifestsError,
  type SynthesizedDeployment,
  SynthesizedReleases,
  versionOfDeployment,
} from "./kubernetes-manifests.js";
import type { RolloutDriver, RolloutTarget } from "./rollout-driver.js";

export interface KubernetesDriverOptions {
  /** Directory of synthesized releases (scanned recursively), e.g. infra/cdk8s/dist/manifests. */
  manifestsDir: string;
  /** Namespace to apply into; default: the synthesized manifests' (then the kubeconfig context's). */
  namespace?: string;
  /** Log the change instead of applying it. */
  dryRun: boolean;
  /** Kubeconfig file; default `$KUBECONFIG`, then `~/.kube/config`; none at all: no cluster. */
  kubeconfig?: string;
  /** Where the dry run and the applies are reported, line by line; default stdout. */
  log?: (line: string) => void;
}

/** How often a deploy reads the Deployment's status while its pods roll. */
const ROLLOUT_POLL_MS = 500;

const NO_CLUSTER =
  "no cluster: no kubeconfig named, $KUBECONFIG unset and no ~/.kube/config; applying needs one (`cellctl rollout plan` shows the changes without one)";

export function createKubernetesDriver(options: KubernetesDriverOptions): RolloutDriver {
  return new KubernetesDriver(options);
}

const targetKey = (t: RolloutTarget) => `${t.cellId}\u0000${t.az}`;

function imageOf(manifest: unknown): string {
  const spec = (manifest as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec;
  return spec?.template?.spec?.containers?.[0]?.image ?? "(no image)";
}

function applyLine(manifest: DeploymentManifest, found: SynthesizedDeployment): string {
  const path = deploymentPath(manifest.metadata.namespace ?? "", manifest.metadata.name);
  return `  apply: PATCH ${path}?fieldManager=${FIELD_MANAGER}&force=true (server-side apply, ${APPLY_CONTENT_TYPE}: the manifest of ${found.file})`;
}

/** What a dry run prints above the field diff, and the diff itself. */
interface Change {
  lines: string[];
  diff: ReturnType<typeof diffObjects>;
}

class KubernetesDriver implements RolloutDriver {
  readonly name = "kubernetes";
  private readonly log: (line: string) => void;
  private api: KubernetesApi | null | undefined;
  /** Without a cluster: what this process's dry run has "deployed", so a rollback diffs against it. */
  private readonly dryRunDeployed = new Map<string, string>();

  constructor(private readonly options: KubernetesDriverOptions) {
    this.log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  }

  /** The API of the kubeconfig's current context, or null when there is no kubeconfig (no cluster). */
  private cluster(): KubernetesApi | null {
    if (this.api === undefined) {
      const file = findKubeconfig(this.options.kubeconfig);
      this.api = file ? new KubernetesApi(readKubeconfig(file)) : null;
    }
    return this.api;
  }

  private forApply(found: SynthesizedDeployment): DeploymentManifest {
    const manifest = structuredClone(found.manifest);
    manifest.metadata.namespace =
      this.options.namespace ?? manifest.metadata.namespace ?? this.cluster()?.access.namespace ?? "default";
    return manifest;
  }

  /** Any synthesized release of the target: Deployment names do not change between releases. */
  private anyRelease(releases: SynthesizedReleases, target: RolloutTarget): SynthesizedDeployment {
    const [first] = releases.versionsOf(target);
    if (first === undefined) {
      throw new ManifestsError(
        `no synthesized Deployment of cell ${target.cellId} in ${target.az} under ${this.options.manifestsDir} (is the cell in the platform config? run: npm run synth -- --version <v>)`,
      );
    }
    return releases.require(target, first);
  }

  async currentVersion(target: RolloutTarget): Promise<string | undefined> {
    const releases = SynthesizedReleases.load(this.options.manifestsDir);
    const k8s = this.cluster();
    // no cluster: only what this process's dry run put there is known
    if (!k8s) return this.dryRunDeployed.get(targetKey(target));
    const { manifest } = this.anyRelease(releases, target);
    const namespace = this.options.namespace ?? manifest.metadata.namespace ?? k8s.access.namespace ?? "default";
    const live = await k8s.getDeployment(namespace, manifest.metadata.name);
    return live ? versionOfDeployment(live) : undefined;
  }

  async describeChange(target: RolloutTarget, version: string): Promise<string> {
    const releases = SynthesizedReleases.load(this.options.manifestsDir);
    const next = releases.require(target, version);
    const manifest = this.forApply(next);
    const name = `${manifest.metadata.namespace}/${manifest.metadata.name}`;
    const where = `cell ${target.cellId}, AZ ${target.az}: Deployment ${name}`;
    const k8s = this.cluster();
    const { lines, diff } = k8s
      ? await this.changeInCluster(k8s, manifest, where, version)
      : this.changeWithoutCluster(releases, target, manifest, where, version);
    if (diff.length === 0) lines.push(`  no change: it already runs release ${version}`);
    for (const line of diff) lines.push(`  ${formatDiffLine(line)}`);
    lines.push(applyLine(manifest, next));
    return lines.join("\n");
  }

  /** The live Deployment against the API server's own dry run of the apply (as `kubectl diff`). */
  private async changeInCluster(
    k8s: KubernetesApi,
    manifest: DeploymentManifest,
    where: string,
    version: string,
  ): Promise<Change> {
    const live = await k8s.getDeployment(manifest.metadata.namespace ?? "default", manifest.metadata.name);
    const context = `context ${k8s.access.context} (${k8s.access.server})`;
    if (!live) {
      return {
        lines: [
          `${where}, not in the cluster -> release ${version} (${imageOf(manifest)}): the apply creates it`,
          `  compared with: nothing live in ${context}; the fields applied:`,
        ],
        diff: diffObjects({}, manifest),
      };
    }
    const planned = await k8s.applyDeployment(manifest, { dryRun: true });
    return {
      lines: [
        `${where}, release ${versionOfDeployment(live) ?? "(unknown)"} -> ${version}`,
        `  compared with: the live Deployment in ${context}, against the API server's dry run of the apply`,
      ],
      diff: diffObjects(withoutServerFields(live), withoutServerFields(planned)),
    };
  }

  /** No cluster: what this process dry-run deployed there, else the one other release synthesized for it. */
  private changeWithoutCluster(
    releases: SynthesizedReleases,
    target: RolloutTarget,
    manifest: DeploymentManifest,
    where: string,
    version: string,
  ): Change {
    const others = releases.versionsOf(target).filter((v) => v !== version);
    const baselineVersion = this.dryRunDeployed.get(targetKey(target)) ?? (others.length === 1 ? others[0] : undefined);
    const baseline = baselineVersion === undefined ? undefined : releases.find(target, baselineVersion);
    if (baseline) {
      return {
        lines: [
          `${where}, release ${baseline.version} -> ${version}`,
          `  compared with: the synthesized release ${baseline.version} (${baseline.file}); no cluster`,
        ],
        diff: diffObjects(this.forApply(baseline), manifest),
      };
    }
    return {
      lines: [
        `${where}, release (unknown) -> ${version} (${imageOf(manifest)})`,
        `  compared with: nothing (no cluster, and ${others.length === 0 ? "no other release" : `several releases (${others.join(", ")})`} synthesized for this target); the fields applied:`,
      ],
      diff: diffObjects({}, manifest),
    };
  }

  async deploy(target: RolloutTarget, version: string): Promise<void> {
    if (this.options.dryRun) {
      const change = await this.describeChange(target, version);
      for (const line of `dry run, nothing applied: ${change}`.split("\n")) this.log(line);
      this.dryRunDeployed.set(targetKey(target), version);
      return;
    }
    const k8s = this.cluster();
    if (!k8s) throw new Error(NO_CLUSTER);
    const next = SynthesizedReleases.load(this.options.manifestsDir).require(target, version);
    const manifest = this.forApply(next);
    const applied = await k8s.applyDeployment(manifest, { dryRun: false });
    const now = versionOfDeployment(applied);
    if (now !== version) {
      throw new Error(
        `applied Deployment ${manifest.metadata.name} reports release ${now ?? "(none)"}, not ${version}`,
      );
    }
    const name = `${manifest.metadata.namespace}/${manifest.metadata.name}`;
    this.log(
      `applied Deployment ${name} (cell ${target.cellId}, AZ ${target.az}): release ${version}, ${imageOf(applied)}`,
    );
    // The registry's endpoint of a cell AZ is its Service, which answers from any of the AZ's pods: the
    // controller's /ready and /metrics mean "the new release" only once every pod runs it. So deploy resolves
    // when the rolling update is complete (as `kubectl rollout status`), within the Deployment's own deadline.
    const deadlineSeconds = ((manifest.spec ?? {}) as { progressDeadlineSeconds?: number }).progressDeadlineSeconds;
    await k8s.waitForRollout(manifest.metadata.namespace ?? "default", manifest.metadata.name, {
      timeoutMs: ((deadlineSeconds ?? 600) + 30) * 1000,
      pollMs: ROLLOUT_POLL_MS,
      onProgress: (detail) => this.log(`waiting for Deployment ${name} to roll out: ${detail}`),
    });
    this.log(`Deployment ${name} rolled out: every replica runs release ${version}`);
  }
}
