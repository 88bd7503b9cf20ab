/**
 * The two Kubernetes API calls a rollout needs, over node:http(s) with the kubeconfig's credentials:
 * read a Deployment, and server-side apply one (`PATCH ... application/apply-patch+yaml`, field manager
 * `cellctl`), for real or as a server dry run (`dryRun=All`: admission and defaulting run, nothing is
 * stored), which is how the driver shows the exact change, as `kubectl diff` does.
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
