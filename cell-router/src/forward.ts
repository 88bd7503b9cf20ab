import { Agent, request } from "undici";
import { orderEndpoints } from "./endpoint-order.js";
import { type EndpointHealth, joinUrl } from "./health.js";
import type { RouterMetrics } from "./metrics.js";

/**
 * Sends one client request to one cell: replicas in endpoint-order, each over
 * its own undici Agent (a bounded connection pool, so a hung replica can
 * exhaust only its own pool), all within one deadline. A request is tried on
 * the next replica only when that is safe (retryable: GET/HEAD, or a POST
 * carrying an Idempotency-Key) and only when the replica did not answer
 * (connection failure, timeout) or answered 503. Any other answer is the answer.
 */

export interface CellTarget {
  cellId: string;
  endpoints: readonly { az: string; url: string; weight: number }[];
}

export interface ForwardRequest {
  method: string;
  /** Path and query exactly as the client sent them. */
  target: string;
  /** Lower-case header names; only the headers to forward. */
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  retryable: boolean;
  /** performance.now() value by which the whole exchange must be over. */
  deadline: number;
}

export type ForwardOutcome =
  | {
      kind: "response";
      status: number;
      headers: Record<string, string>;
      body: Uint8Array<ArrayBuffer>;
      /** AZ of the replica that answered. */
      az: string;
      attempts: number;
    }
  | { kind: "unavailable"; attempts: number; reason: FailureReason | "no-endpoints" }
  | { kind: "shed" };

export type FailureReason = "connect-error" | "timeout" | "error";

export interface ForwarderOptions {
  az: string;
  /** Connection limit of each replica's pool. */
  connections: number;
  /** Upper bound of any single exchange (headers and body timeouts of the pools). */
  timeoutMs: number;
  maxInflight: number;
  health: EndpointHealth;
  metrics: RouterMetrics;
  random?: () => number;
  /** Counts each request forwarded to a cell (not shed), for onboarding's ops/s rule. */
  onForward?: (cellId: string) => void;
}

/** Response headers a client may see from a cell (everything else stays behind the router). */
const PASS_BACK = [
  "content-type",
  "location",
  "idempotency-replayed",
  "retry-after",
  "allow",
  "www-authenticate",
  // The app reads it (the wallet moved: re-resolve and re-forward once) and never passes it to clients.
  "wallet-location",
] as const;

const CONNECT_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

const TIMEOUT_ERRORS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

export function classifyFailure(error: unknown): FailureReason {
  if (!(error instanceof Error)) return "error";
  if (error.name === "TimeoutError" || error.name === "AbortError") return "timeout";
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (CONNECT_ERRORS.has(code)) return "connect-error";
    if (TIMEOUT_ERRORS.has(code)) return "timeout";
  }
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause !== error ? classifyFailure(cause) : "error";
}

export class Forwarder {
  private readonly agents = new Map<string, Agent>();
  private readonly inflight = new Map<string, number>();
  private readonly random: () => number;

  constructor(private readonly options: ForwarderOptions) {
    this.random = options.random ?? Math.random;
  }

  inflightOf(cellId: string): number {
    return this.inflight.get(cellId) ?? 0;
  }

  /** Keeps pools only for the endpoints the registry still names. */
  syncEndpoints(urls: Iterable<string>): void {
    const keep = new Set(urls);
    for (const [url, agent] of this.agents) {
      if (!keep.has(url)) {
        this.agents.delete(url);
        void agent.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
  }

  private agentFor(url: string): Agent {
    let agent = this.agents.get(url);
    if (agent === undefined) {
      const { connections, timeoutMs } = this.options;
      agent = new Agent({
        connections,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        connect: { timeout: timeoutMs },
        keepAliveTimeout: 4_000,
      });
      this.agents.set(url, agent);
    }
    return agent;
  }

  async forward(cell: CellTarget, req: ForwardRequest): Promise<ForwardOutcome> {
    const { metrics, maxInflight, health } = this.options;
    const cellId = cell.cellId;
    const inflight = this.inflightOf(cellId);
    if (inflight >= maxInflight) {
      metrics.shed.inc({ cell: cellId });
      return { kind: "shed" };
    }
    this.inflight.set(cellId, inflight + 1);
    metrics.inflight.set({ cell: cellId }, inflight + 1);
    this.options.onForward?.(cellId);
    try {
      const order = orderEndpoints(cell.endpoints, {
        ownAz: this.options.az,
        isHealthy: (url) => health.isHealthy(url),
        random: this.random,
      });
      const tries = req.retryable ? order : order.slice(0, 1);
      if (tries.length === 0) return { kind: "unavailable", attempts: 0, reason: "no-endpoints" };

      let attempts = 0;
      let lastFailure: FailureReason = "timeout";
      let last503: Extract<ForwardOutcome, { kind: "response" }> | undefined;
      for (let i = 0; i < tries.length; i++) {
        const endpoint = tries[i] as (typeof tries)[number];
        const remaining = req.deadline - performance.now();
        if (remaining <= 1) break;
        // Share what is left among the replicas still to try, so a hung first one leaves time for the next.
        const budget = Math.max(1, Math.floor(remaining / (tries.length - i)));
        attempts += 1;
        const started = performance.now();
        const labels = { cell: cellId, cell_az: endpoint.az };
        // A timer cleared once the answer is in: AbortSignal.timeout(budget) fired for every request after it
        // had long been answered, building an abort event and a DOMException each time (~3% of the router's CPU).
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(new DOMException("the attempt timed out", "TimeoutError")), budget);
        try {
          const res = await request(joinUrl(endpoint.url, req.target), {
            dispatcher: this.agentFor(endpoint.url),
            method: req.method as "GET",
            headers: req.headers,
            body:
              req.body === undefined ? null : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength),
            signal: abort.signal,
          });
          const body = new Uint8Array(await res.body.arrayBuffer());
          clearTimeout(timer);
          const seconds = (performance.now() - started) / 1000;
          metrics.cellRequests.inc({ ...labels, outcome: String(res.statusCode) });
          metrics.cellLatency.observe({ ...labels, outcome: String(res.statusCode) }, seconds);
          const outcome = {
            kind: "response" as const,
            status: res.statusCode,
            headers: passBack(res.headers),
            body,
            az: endpoint.az,
            attempts,
          };
          // A 503 naming where the wallet went is the cell's answer, not a replica failure: the other
          // replicas share the store and would say the same.
          const moved = outcome.headers["wallet-location"] !== undefined;
          if (res.statusCode === 503 && !moved && i < tries.length - 1) {
            metrics.failovers.inc({ ...labels, reason: "unavailable" });
            last503 = outcome;
            continue;
          }
          return outcome;
        } catch (error) {
          clearTimeout(timer);
          const reason = classifyFailure(error);
          lastFailure = reason;
          const seconds = (performance.now() - started) / 1000;
          metrics.cellRequests.inc({ ...labels, outcome: reason });
          metrics.cellLatency.observe({ ...labels, outcome: reason }, seconds);
          if (reason === "connect-error") health.markFailure(endpoint.url);
          if (reason === "error") return { kind: "unavailable", attempts, reason };
          if (i < tries.length - 1) metrics.failovers.inc({ ...labels, reason });
        }
      }
      return last503 ?? { kind: "unavailable", attempts, reason: lastFailure };
    } finally {
      const now = this.inflightOf(cellId) - 1;
      this.inflight.set(cellId, now);
      metrics.inflight.set({ cell: cellId }, now);
    }
  }
}

function passBack(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASS_BACK) {
    const value = headers[name];
    if (typeof value === "string") out[name] = value;
    else if (Array.isArray(value) && value.length > 0) out[name] = value.join(", ");
  }
  return out;
}
