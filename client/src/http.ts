import { DeadlineExceededError, ProblemError, RequestNotSentError, UnexpectedResponseError } from "./errors.js";
import type { Problem } from "./types.js";

export interface RetryPolicy {
  /** First backoff step in ms; each retry doubles it (full jitter), up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface TransportOptions {
  baseUrl: string;
  /** A bearer token, or a function asked before every attempt (to refresh short-lived tokens). */
  token: string | (() => string | Promise<string>);
  /** Default deadline of one call, retries included. */
  deadlineMs: number;
  /** Longest single attempt (bounded by what is left of the deadline). */
  attemptTimeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  /** Jitter source in [0, 1) (tests may fix it). */
  random: () => number;
  userAgent: string;
}

export interface CallOptions {
  /** Deadline of this call in ms from now, retries included (default: the client's). */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface Request {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Sent on every attempt: the server applies the operation once and replays its answer. */
  idempotencyKey?: string;
}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
  /** The stored answer of an earlier attempt with the same Idempotency-Key. */
  replayed: boolean;
  /** How many attempts the call took. */
  attempts: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** Retry-After in ms (delta-seconds or an HTTP date), or undefined. */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Whether a failed attempt may be sent again. Safe means nothing was applied or the Idempotency-Key makes a
 * repeat harmless: 503 (the cell was unavailable or the wallet was moving: nothing applied) and 429 (refused
 * before any work) with Retry-After; 409 idempotency-in-progress (the first attempt still runs: the repeat
 * gets its answer); a connection failure or timeout only for a GET or a keyed POST.
 */
function retryable(status: number, problem: Problem | undefined): boolean {
  if (status === 503 || status === 429) return true;
  return status === 409 && problem?.code === "idempotency-in-progress";
}

/** One call with its retries and deadline. */
export async function call<T>(
  options: TransportOptions,
  request: Request,
  callOptions: CallOptions = {},
): Promise<Answer<T>> {
  const deadline = Date.now() + (callOptions.deadlineMs ?? options.deadlineMs);
  const url = new URL(request.path, options.baseUrl);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  const canRetryOnNetworkError = request.method === "GET" || request.idempotencyKey !== undefined;
  let lastFailure: unknown;
  for (let attempt = 1; ; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) throw expired(request, lastFailure, attempt - 1);
    const token = typeof options.token === "function" ? await options.token() : options.token;
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: "application/json, application/problem+json",
      "user-agent": options.userAgent,
    };
    if (request.idempotencyKey !== undefined) headers["idempotency-key"] = request.idempotencyKey;
    if (request.body !== undefined) headers["content-type"] = "application/json";
    const built = requestHeaders(request, headers);
    const signals = [AbortSignal.timeout(Math.min(left, options.attemptTimeoutMs))];
    if (callOptions.signal) signals.push(callOptions.signal);
    let response: Response;
    let text: string;
    try {
      response = await options.fetch(url, {
        method: request.method,
        headers: built,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.any(signals),
      });
      text = await response.text();
    } catch (error) {
      if (callOptions.signal?.aborted) throw callOptions.signal.reason;
      if (!canRetryOnNetworkError) throw error;
      // An attempt cut short by the call's own deadline says nothing new: the last answer seen stays the cause
      // (under load the deadline may fall during an attempt or between two; the cause must not depend on which).
      const cutByDeadline = (error as Error | undefined)?.name === "TimeoutError" && left < options.attemptTimeoutMs;
      if (!(cutByDeadline && lastFailure !== undefined)) lastFailure = error;
      await backoff(options, attempt, undefined, deadline, request, lastFailure, callOptions.signal);
      continue;
    }
    const body = parse(response.status, text);
    if (response.ok) {
      return {
        status: response.status,
        body: body as T,
        headers: response.headers,
        replayed: response.headers.get("idempotency-replayed") === "true",
        attempts: attempt,
      };
    }
    const problem = isProblem(body) ? body : undefined;
    if (!problem) throw new UnexpectedResponseError(response.status, text);
    const failure = new ProblemError(response.status, problem, request.idempotencyKey);
    if (!retryable(response.status, problem)) throw failure;
    lastFailure = failure;
    await backoff(options, attempt, retryAfterMs(response.headers), deadline, request, lastFailure, callOptions.signal);
  }
}

/**
 * The attempt's headers, built before anything is sent: a value fetch refuses (a key or token with a line break
 * or a non-Latin-1 character) fails here, at once and for good, instead of being retried until the deadline as if
 * the network had failed, and then reported as an outcome unknown when nothing was ever sent.
 */
function requestHeaders(request: Request, headers: Record<string, string>): Headers {
  try {
    return new Headers(headers);
  } catch (error) {
    throw new RequestNotSentError(`${request.method} ${request.path}: ${(error as Error).message}`, error);
  }
}

/** Waits before the next attempt: Retry-After when given (plus a little jitter), else full-jitter exponential. */
async function backoff(
  options: TransportOptions,
  attempt: number,
  retryAfter: number | undefined,
  deadline: number,
  request: Request,
  lastFailure: unknown,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { baseDelayMs, maxDelayMs } = options.retry;
  const delay =
    retryAfter !== undefined
      ? retryAfter + options.random() * baseDelayMs
      : options.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  if (Date.now() + delay >= deadline) throw expired(request, lastFailure, attempt);
  await sleep(delay, signal);
}

function expired(request: Request, lastFailure: unknown, attempts: number): DeadlineExceededError {
  const what = `${request.method} ${request.path}`;
  const why = lastFailure instanceof Error ? lastFailure.message : "no attempt finished";
  return new DeadlineExceededError(
    `${what}: no final answer before the deadline after ${attempts} attempt(s) (last: ${why})`,
    request.idempotencyKey,
    lastFailure,
  );
}

function parse(status: number, text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new UnexpectedResponseError(status, text);
  }
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && typeof (value as { code?: unknown }).code === "string";
}
