/**
 * A loopback stand-in for the two Kubernetes API endpoints the kubernetes rollout driver calls. It is NOT an
 * API server (no cluster can be run or downloaded here): it checks each request the way the real one
 * would refuse it (bearer token, path, method, server-side apply content type, field manager, body naming
 * the object of the path) and keeps Deployments in memory. An apply stores the body plus a few fields the
 * real server defaults or writes itself (terminationMessagePath, dnsPolicy, revisionHistoryLimit,
 * managedFields, resourceVersion, status), so a diff that wrongly compared them would show. `dryRun=All`
 * answers the same object without storing it. After an apply, the stored Deployment's status plays the
 * Deployment controller: `rolloutPolls` GETs show the rolling update in progress, then it is complete (or,
 * after `failNextRollout`, stalled with ProgressDeadlineExceeded). Every request is recorded.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
}

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON
type Json = any;

export interface FakeKubernetesApi {
  url: string;
  token: string;
  requests: RecordedRequest[];
  deployments: Map<string, Json>;
  /** How many GETs after an apply show the rolling update still in progress (default 0). */
  rolloutPolls: number;
  /** The next applied Deployment never rolls out: Progressing=False, ProgressDeadlineExceeded. */
  failNextRollout(message: string): void;
  /** Called with every Deployment stored by a (non dry-run) apply: where a test plays the kubelet. */
  onApply?: (deployment: Json) => void;
  /** Answer the next request(s) matching `method` with this status and Status message. */
  failNext(method: string, status: number, message: string): void;
  close(): Promise<void>;
}

const PATH = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/;

function status(code: number, reason: string, message: string) {
  return { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code };
}

/** What the API server adds to an applied Deployment (a few of its defaults and its own fields). */
function asStored(body: Json, previous: Json | undefined, fieldManager: string, generation: number): Json {
  const stored = structuredClone(body);
  stored.metadata.uid = previous?.metadata?.uid ?? `uid-${stored.metadata.name}`;
  stored.metadata.resourceVersion = String(generation * 10);
  stored.metadata.generation = generation;
  stored.metadata.creationTimestamp = previous?.metadata?.creationTimestamp ?? "2026-01-01T00:00:00Z";
  stored.metadata.managedFields = [{ manager: fieldManager, operation: "Apply", apiVersion: "apps/v1" }];
  stored.metadata.annotations = {
    ...stored.metadata.annotations,
    "deployment.kubernetes.io/revision": String(generation),
  };
  stored.spec.revisionHistoryLimit ??= 10;
  stored.spec.template.spec.dnsPolicy ??= "ClusterFirst";
  for (const container of stored.spec.template.spec.containers) {
    container.terminationMessagePath ??= "/dev/termination-log";
  }
  stored.status = { observedGeneration: generation - 1, replicas: stored.spec.replicas };
  return stored;
}

/** `tls`: serve HTTPS with this key and certificate (PEM), as a real API server does. */
export async function startFakeKubernetesApi(
  token = "test-token",
  tls?: { key: string; cert: string },
): Promise<FakeKubernetesApi> {
  const requests: RecordedRequest[] = [];
  const deployments = new Map<string, Json>();
  const failures: { method: string; status: number; message: string }[] = [];
  const rolling = new Map<string, { polls: number; fail?: string }>();
  let failRollout: string | undefined;
  const fake = { rolloutPolls: 0 };
  /** What the Deployment controller would have written by now. */
  const advance = (key: string, stored: Json) => {
    const pending = rolling.get(key);
    if (!pending) return;
    const wanted = stored.spec.replicas ?? 1;
    const generation = stored.metadata.generation;
    if (pending.fail !== undefined) {
      stored.status = {
        observedGeneration: generation,
        replicas: wanted + 1,
        updatedReplicas: 1,
        availableReplicas: wanted,
        conditions: [
          { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: pending.fail },
        ],
      };
      rolling.delete(key);
    } else if (pending.polls > 0) {
      pending.polls -= 1;
      stored.status = {
        observedGeneration: generation,
        replicas: wanted + 1,
        updatedReplicas: 1,
        availableReplicas: wanted,
      };
    } else {
      stored.status = {
        observedGeneration: generation,
        replicas: wanted,
        updatedReplicas: wanted,
        availableReplicas: wanted,
        readyReplicas: wanted,
      };
      rolling.delete(key);
    }
  };
  const handler: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      const send = (code: number, payload: unknown) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${token}`)
        return send(401, status(401, "Unauthorized", "Unauthorized"));
      const failure = failures.findIndex((f) => f.method === req.method);
      if (failure !== -1) {
        const [f] = failures.splice(failure, 1);
        return send(f?.status ?? 500, status(f?.status ?? 500, "Injected", f?.message ?? ""));
      }
      const match = PATH.exec(url.pathname);
      if (!match) return send(404, status(404, "NotFound", `the server could not find ${url.pathname}`));
      const [, namespace, name] = match as unknown as [string, string, string];
      const key = `${namespace}/${name}`;
      if (req.method === "GET") {
        const found = deployments.get(key);
        if (found) advance(key, found);
        return found ? send(200, found) : send(404, status(404, "NotFound", `deployments.apps "${name}" not found`));
      }
      if (req.method !== "PATCH") return send(405, status(405, "MethodNotAllowed", "method not allowed"));
      if (req.headers["content-type"] !== "application/apply-patch+yaml") {
        return send(415, status(415, "UnsupportedMediaType", `the body of the request was in an unknown format`));
      }
      const fieldManager = url.searchParams.get("fieldManager");
      if (!fieldManager) {
        return send(400, status(400, "BadRequest", "PATCH, application/apply-patch+yaml requires fieldManager"));
      }
      let object: Json;
      try {
        // the driver sends JSON, which is YAML; the real server takes either
        object = JSON.parse(body);
      } catch {
        return send(400, status(400, "BadRequest", "error decoding YAML"));
      }
      if (object?.apiVersion !== "apps/v1" || object?.kind !== "Deployment") {
        return send(400, status(400, "BadRequest", "apiVersion and kind must be apps/v1 Deployment"));
      }
      if (object.metadata?.name !== name || (object.metadata?.namespace ?? namespace) !== namespace) {
        return send(400, status(400, "BadRequest", "the name/namespace of the object does not match the request"));
      }
      const previous = deployments.get(key);
      const stored = asStored(object, previous, fieldManager, (previous?.metadata?.generation ?? 0) + 1);
      if (url.searchParams.get("dryRun") !== "All") {
        deployments.set(key, stored);
        rolling.set(key, { polls: fake.rolloutPolls, ...(failRollout !== undefined ? { fail: failRollout } : {}) });
        failRollout = undefined;
        api.onApply?.(structuredClone(stored));
      }
      return send(previous ? 200 : 201, stored);
    });
  };
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const api: FakeKubernetesApi = {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    token,
    requests,
    deployments,
    get rolloutPolls() {
      return fake.rolloutPolls;
    },
    set rolloutPolls(n: number) {
      fake.rolloutPolls = n;
    },
    failNextRollout(message) {
      failRollout = message;
    },
    failNext(method, code, message) {
      failures.push({ method, status: code, message });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}

/** A kubeconfig whose current context reaches `url` as `user` (token, exec plugin...), with `cluster` settings. */
export function kubeconfigYaml(
  url: string,
  user: Record<string, unknown>,
  namespace?: string,
  cluster: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "test",
    clusters: [{ name: "loopback", cluster: { server: url, ...cluster } }],
    users: [{ name: "rollout", user }],
    contexts: [
      { name: "test", context: { cluster: "loopback", user: "rollout", ...(namespace ? { namespace } : {}) } },
    ],
  });
}
