/**
 * The two Kubernetes API calls a rollout needs, over node:http(s) with the kubeconfig's credentials:
 * read a Deployment, and server-side apply one (`PATCH ... application/apply-patch+yaml`, field manager
 * `cellctl`), for real or as a server dry run (`dryRun=All`: admission and defaulting run, nothing is
 * stored), which is how the driver shows the exact change, as `kubectl diff` does.
 *
 * Why not @kubernetes/client-node: its current major (2.x) needs Node >= 22.19 (undici 8), and this code must run
 * on Node 20; the previous major (1.x) would bring 16 direct dependencies (openid-client, tar-fs, ws, socks
 * proxies, node-fetch 2...) and @types/node 22 as a runtime dependency, for two HTTP calls and a kubeconfig.
 */
import http from "node:http";
import https from "node:https";
import { type ClusterAccess, type ExecCredential, runExecPlugin } from "./kubernetes-kubeconfig.js";
import type { DeploymentManifest } from "./kubernetes-manifests.js";

export const FIELD_MANAGER = "cellctl";
export const APPLY_CONTENT_TYPE = "application/apply-patch+yaml";
const REQUEST_TIMEOUT_MS = 30_000;

/** A refusal or failure of the API server (or no answer from it): an outage or a bug for the caller. */
export class KubernetesApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Where a Deployment's rolling update stands, as `kubectl rollout status` judges it. */
export type RolloutProgress =
  | { state: "done" }
  | { state: "progressing"; detail: string }
  | { state: "failed"; detail: string };

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

export function rolloutProgress(deployment: DeploymentManifest): RolloutProgress {
  const status = (deployment.status ?? {}) as DeploymentStatus;
  const wanted = ((deployment.spec ?? {}) as { replicas?: number }).replicas ?? 1;
  const generation = (deployment.metadata.generation as number | undefined) ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { state: "progressing", detail: "waiting for the Deployment controller to see the new spec" };
  }
  const stalled = status.conditions?.find((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded");
  if (stalled) return { state: "failed", detail: `ProgressDeadlineExceeded: ${stalled.message ?? "no progress"}` };
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) return { state: "progressing", detail: `${updated} of ${wanted} replicas updated` };
  if (total > updated) return { state: "progressing", detail: `${total - updated} old replicas pending termination` };
  if (available < updated)
    return { state: "progressing", detail: `${available} of ${updated} updated replicas available` };
  return { state: "done" };
}

export function deploymentPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}`;
}

export class KubernetesApi {
  private credential: ExecCredential | undefined;

  constructor(readonly access: ClusterAccess) {}

  /** The live Deployment, or undefined when the API server has none of that name (404). */
  async getDeployment(namespace: string, name: string): Promise<DeploymentManifest | undefined> {
    const response = await this.request("GET", deploymentPath(namespace, name));
    if (response.status === 404) return undefined;
    return this.ok(response, `GET Deployment ${namespace}/${name}`) as DeploymentManifest;
  }

  /**
   * Server-side apply of a Deployment. `force`: the rollout owns the fields it applies, even when a person
   * last set them with kubectl (without it the API refuses with a 409 conflict and the rollout stalls).
   */
  async applyDeployment(manifest: DeploymentManifest, options: { dryRun: boolean }): Promise<DeploymentManifest> {
    const namespace = manifest.metadata.namespace;
    if (!namespace) throw new KubernetesApiError(`Deployment ${manifest.metadata.name} has no namespace`);
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: "true" });
    if (options.dryRun) query.set("dryRun", "All");
    const path = `${deploymentPath(namespace, manifest.metadata.name)}?${query}`;
    // JSON is YAML: the body is exactly the synthesized manifest
    const response = await this.request("PATCH", path, JSON.stringify(manifest), APPLY_CONTENT_TYPE);
    return this.ok(response, `apply Deployment ${namespace}/${manifest.metadata.name}`) as DeploymentManifest;
  }

  /**
   * Resolves once the Deployment has rolled its pods to `generation` (every replica updated and available, no
   * old one left); throws when Kubernetes reports ProgressDeadlineExceeded or `timeoutMs` passes. `onProgress`
   * hears each new state.
   */
  async waitForRollout(
    namespace: string,
    name: string,
    options: { timeoutMs: number; pollMs: number; onProgress?: (detail: string) => void },
  ): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let last = "";
    for (;;) {
      const live = await this.getDeployment(namespace, name);
      if (!live) throw new KubernetesApiError(`Deployment ${namespace}/${name} disappeared while rolling out`);
      const progress = rolloutProgress(live);
      if (progress.state === "done") return;
      if (progress.state === "failed") {
        throw new KubernetesApiError(`Deployment ${namespace}/${name} did not roll out: ${progress.detail}`);
      }
      if (progress.detail !== last) options.onProgress?.(progress.detail);
      last = progress.detail;
      if (Date.now() > deadline) {
        throw new KubernetesApiError(
          `Deployment ${namespace}/${name} not rolled out in ${options.timeoutMs} ms: ${last}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  }

  private ok(response: { status: number; body: string }, what: string): unknown {
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      parsed = undefined;
    }
    if (response.status >= 200 && response.status < 300 && parsed !== undefined) return parsed;
    const message = (parsed as { message?: string } | undefined)?.message ?? response.body.slice(0, 300);
    throw new KubernetesApiError(`${what}: API server answered ${response.status}: ${message}`, response.status);
  }

  private async auth(): Promise<{ token?: string; cert?: Buffer; key?: Buffer }> {
    const { access } = this;
    if (!access.exec) {
      return {
        ...(access.token ? { token: access.token } : {}),
        ...(access.cert ? { cert: access.cert } : {}),
        ...(access.key ? { key: access.key } : {}),
      };
    }
    // renew a minute before expiry: a rollout bakes for many minutes and EKS tokens live 15
    if (
      !this.credential ||
      (this.credential.expiresAt !== undefined && this.credential.expiresAt - 60_000 < Date.now())
    ) {
      this.credential = await runExecPlugin(access.exec);
    }
    return this.credential;
  }

  private async request(
    method: string,
    path: string,
    body?: string,
    contentType?: string,
  ): Promise<{ status: number; body: string }> {
    const url = new URL(path, `${this.access.server}/`);
    const auth = await this.auth();
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "cellctl" };
    if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
    if (body !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const secure = url.protocol === "https:";
    const tls = secure
      ? {
          ...(this.access.ca ? { ca: this.access.ca } : {}),
          ...(auth.cert ? { cert: auth.cert } : {}),
          ...(auth.key ? { key: auth.key } : {}),
          ...(this.access.tlsServerName ? { servername: this.access.tlsServerName } : {}),
          rejectUnauthorized: !this.access.insecureSkipTlsVerify,
        }
      : {};
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        { method, headers, timeout: REQUEST_TIMEOUT_MS, ...tls },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", (error) =>
        reject(new KubernetesApiError(`${method} ${url.origin}${url.pathname}: ${error.message}`)),
      );
      req.end(body);
    });
  }
}
