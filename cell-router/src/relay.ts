import { randomUUID } from "node:crypto";
import { WALLET_LOCATION_HEADER } from "@cellwallet/contract";
import type { CellRecord } from "@cellwallet/placement";
import { addSpanEvent } from "@cellwallet/telemetry";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { CellTarget, ForwardOutcome } from "./forward.js";
import { RETRY_AFTER_SECONDS, unavailable } from "./router-answers.js";
import type { Ctx, RouterAppDeps } from "./router-env.js";

/** Request headers a cell sees (the router adds x-request-id, traceparent and x-forwarded-for itself). */
const FORWARDED_HEADERS = ["authorization", "content-type", "user-agent", "idempotency-key"] as const;

export interface RelayOptions {
  /** A POST without an Idempotency-Key gets one of the router's, so that it may be retried on another replica. */
  addIdempotencyKey: boolean;
  /** Whether an attempt may be repeated on another replica (default: GET, HEAD, or a POST with a key). */
  retryable?: boolean;
  /**
   * After a 503 + Wallet-Location from `answeredBy`: the cell to try instead (the request is forwarded there
   * once, with the same Idempotency-Key), an answer of the router's own, or undefined to relay the 503.
   */
  relocate?: (answeredBy: string, location: string) => Promise<CellRecord | Response | undefined>;
}

function peerAddress(c: Ctx): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** The headers sent to the cell, and whether the Idempotency-Key is the router's own. */
function requestHeaders(
  c: Ctx,
  deps: RouterAppDeps,
  addIdempotencyKey: boolean,
): { headers: Record<string, string>; routerKey: boolean } {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  headers["x-request-id"] = c.get("requestId");
  headers.traceparent = c.get("traceparent");
  const peer = peerAddress(c);
  // A client's own X-Forwarded-For is dropped: only a trusted proxy in front of the router may name the client.
  const forwardedFor =
    peer !== undefined && deps.trustsProxy?.(peer) === true ? c.req.header("x-forwarded-for") : undefined;
  if (peer !== undefined) headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${peer}` : peer;
  if (addIdempotencyKey && c.req.method === "POST" && headers["idempotency-key"] === undefined) {
    // With a key of its own the router may retry a POST on another replica: the cell replays, never repeats.
    headers["idempotency-key"] = `rtr-${randomUUID()}`;
    return { headers, routerKey: true };
  }
  return { headers, routerKey: false };
}

/** The cell's response headers as the client sees them. */
function scrubbed(headers: Record<string, string>, status: number, routerKey: boolean): Record<string, string> {
  const out = { ...headers };
  // Where a wallet lives is the platform's business: clients only see 503 + Retry-After at worst.
  delete out[WALLET_LOCATION_HEADER.toLowerCase()];
  // The client sent no key, so "replayed" would describe only the router's own retry.
  if (routerKey) delete out["idempotency-replayed"];
  if (status === 503 && out["retry-after"] === undefined) out["retry-after"] = RETRY_AFTER_SECONDS;
  return out;
}

/**
 * Sends the request to `cell` and relays the answer. When the cell answers 503 with Wallet-Location (it
 * fenced or gave the wallet away and applied nothing), `relocate` names the cell to try instead.
 */
export async function relay(
  c: Ctx,
  deps: RouterAppDeps,
  cell: CellTarget,
  bytes: Uint8Array,
  options: RelayOptions,
): Promise<Response> {
  const url = new URL(c.req.url);
  const method = c.req.method;
  const { headers, routerKey } = requestHeaders(c, deps, options.addIdempotencyKey);
  const hasBody = method === "POST" || method === "PUT" || method === "PATCH";
  const retryable =
    options.retryable ?? (method === "GET" || method === "HEAD" || headers["idempotency-key"] !== undefined);
  c.set("cell", cell.cellId);
  const send = (to: CellTarget) =>
    deps.forwarder.forward(to, {
      method,
      target: url.pathname + url.search,
      headers,
      body: hasBody ? bytes : undefined,
      retryable,
      deadline: c.get("started") + deps.cellTimeoutMs,
    });
  let outcome: ForwardOutcome = await send(cell);
  const location = outcome.kind === "response" ? outcome.headers["wallet-location"] : undefined;
  if (outcome.kind === "response" && outcome.status === 503 && location !== undefined && options.relocate) {
    const next = await options.relocate(cell.cellId, location);
    if (next instanceof Response) return next;
    if (next !== undefined && next.cellId !== cell.cellId) {
      deps.metrics.relocationReforwards.inc();
      addSpanEvent("relocation re-forward", { "cellwallet.from_cell": cell.cellId, "cellwallet.to_cell": next.cellId });
      c.set("cell", next.cellId);
      outcome = await send(next);
    }
  }
  if (outcome.kind === "shed") return unavailable(c, "the service is busy; retry later");
  c.set("attempts", outcome.attempts);
  if (outcome.kind === "unavailable") {
    deps.metrics.cellUnavailable.inc({ cell: cell.cellId });
    return unavailable(c, "the service did not answer in time; retry later");
  }
  c.set("cellAz", outcome.az);
  const responseHeaders = scrubbed(outcome.headers, outcome.status, routerKey);
  const noBody = method === "HEAD" || outcome.status === 204 || outcome.status === 304;
  if (noBody) return c.body(null, outcome.status as 200, responseHeaders);
  return c.body(outcome.body, outcome.status as 200, responseHeaders);
}
