import { LoadClient } from "../cellload/client.js";
import { offerLoad } from "../cellload/engine.js";
import type { Scenario, ScenarioContext } from "../cellload/scenario.js";
import type { BuiltRequest } from "./bench-types.js";
import { type Books, codeOf } from "./book.js";

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

export type { BenchWallet, BuiltRequest } from "./bench-types.js";

export interface ScenarioResult {
  name: string;
  durationS: number;
  connections: number;
  /** Responses per second over the run. */
  rps: number;
  responses: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  /** Requests without an HTTP answer (connection errors, timeouts included) and timeouts. */
  errors: number;
  timeouts: number;
  /** Non-2xx answers by "status code", e.g. "422 insufficient-funds". */
  problems: Map<string, number>;
  /** The first few 5xx bodies, verbatim, for the report. */
  serverErrors: string[];
}

/**
 * Runs one scenario against `url` with cellload's engine in the closed model:
 * `connections` virtual users, each sending its next request as soon as its
 * previous one is answered, for `durationS` (autocannon's model, which these
 * benchmarks used before; one load engine for the repository). `next()` builds
 * every request (path, body, headers and a fresh Idempotency-Key); answers of
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
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  const client = new LoadClient(options.url, { connections: options.connections, timeoutMs: 10_000 });
  const scenario: Scenario = {
    name: options.name,
    description: "",
    money: false,
    async iteration(_ctx, it) {
      const built = options.next();
      const answer = await it.request({
        op: options.name,
        method: built.method,
        path: built.path,
        token: built.token,
        ...(built.body !== undefined ? { body: built.body } : {}),
        ...(built.op ? { money: built.op } : {}),
        cell: "-",
        expect: [200, 201, 202],
      });
      if (answer.status === 0) {
        errors += 1;
        if (/TIMEOUT/i.test(answer.error ?? "")) timeouts += 1;
      } else if (answer.status >= 300) {
        non2xx += 1;
        const label = `${answer.status} ${codeOf(answer.text)}`;
        problems.set(label, (problems.get(label) ?? 0) + 1);
        if (answer.status >= 500 && serverErrors.length < 5) serverErrors.push(answer.text.slice(0, 600));
      }
    },
  };
  try {
    const { recorder } = await offerLoad({
      load: { model: "closed", vus: options.connections, durationMs: options.durationS * 1000 },
      scenario,
      ctx: {} as ScenarioContext,
      client,
      books,
      thresholds: [],
      abortOnFail: false,
      progress: false,
    });
    const d = recorder.durations({});
    const responses = d?.count ?? 0;
    return {
      name: options.name,
      durationS: options.durationS,
      connections: options.connections,
      rps: responses / Math.max(recorder.elapsedSeconds(), 1e-9),
      responses,
      p50: d?.percentile(50) ?? Number.NaN,
      p99: d?.percentile(99) ?? Number.NaN,
      max: d?.max ?? Number.NaN,
      non2xx,
      errors,
      timeouts,
      problems,
      serverErrors,
    };
  } finally {
    await client.close();
  }
}
