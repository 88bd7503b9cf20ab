import autocannon from "autocannon";
import { type Books, codeOf, type MoneyOp } from "./book.js";

/** A small seeded PRNG (mulberry32): the same seed gives the same request mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchWallet {
  walletId: string;
  userId: string;
  /** The owner's token (scope "wallet"). */
  token: string;
}

export interface BuiltRequest {
  method: "GET" | "POST";
  path: string;
  token: string;
  body?: string;
  /** The operation this request carries, tracked in the books (POSTs only). */
  op?: MoneyOp;
}

export interface ScenarioResult {
  name: string;
  durationS: number;
  connections: number;
  /** Responses per second (mean of autocannon's per-second samples). */
  rps: number;
  responses: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  /** Connection errors (timeouts included) and timeouts. */
  errors: number;
  timeouts: number;
  /** Non-2xx answers by "status code", e.g. "422 insufficient-funds". */
  problems: Map<string, number>;
  /** The first few 5xx bodies, verbatim, for the report. */
  serverErrors: string[];
}

interface Ctx {
  key?: string;
}

/**
 * Runs one autocannon scenario against `url`. `next()` builds every request
 * (per request: path, body, headers and a fresh Idempotency-Key); answers of
 * tracked operations go to the books.
 */
export async function runScenario(options: {
  name: string;
  url: string;
  durationS: number;
  connections: number;
  books: Books;
  next: () => BuiltRequest;
}): Promise<ScenarioResult> {
  const { books } = options;
  const problems = new Map<string, number>();
  const serverErrors: string[] = [];
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        setupRequest: (request, context) => {
          const built = options.next();
          const headers: Record<string, string> = { authorization: `Bearer ${built.token}` };
          if (built.body !== undefined) headers["content-type"] = "application/json";
          if (built.op) {
            headers["idempotency-key"] = built.op.key;
            books.track(built.op);
          }
          (context as Ctx).key = built.op?.key;
          return {
            ...request,
            method: built.method,
            path: built.path,
            headers,
            ...(built.body !== undefined ? { body: built.body } : {}),
          };
        },
        onResponse: (status, body, context) => {
          const key = (context as Ctx).key;
          if (key !== undefined) books.answer(key, status, body);
          if (status >= 300) {
            const label = `${status} ${codeOf(body)}`;
            problems.set(label, (problems.get(label) ?? 0) + 1);
            if (status >= 500 && serverErrors.length < 5) serverErrors.push(body.slice(0, 600));
          }
        },
      },
    ],
  });
  return {
    name: options.name,
    durationS: options.durationS,
    connections: options.connections,
    rps: result.requests.average,
    responses: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    problems,
    serverErrors,
  };
}
