import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Books } from "../src/bench/book.js";
import { LoadClient } from "../src/cellload/client.js";
import { type Load, offerLoad } from "../src/cellload/engine.js";
import type { Scenario, ScenarioContext } from "../src/cellload/scenario.js";

/**
 * The executors against a real slow HTTP server: the open model keeps sending at
 * the asked rate however slow the answers, and counts latency from the intended
 * send time (no coordinated omission); the closed model waits for each answer.
 */

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that answers each request after `delayMs`; `serial` handles one request at a time. */
async function slowServer(delayMs: number, serial: boolean) {
  const arrivals: number[] = [];
  let answered = 0;
  let maxOutstanding = 0;
  let queue = Promise.resolve();
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    maxOutstanding = Math.max(maxOutstanding, arrivals.length - answered);
    req.resume();
    const answer = () =>
      new Promise<void>((r) =>
        setTimeout(() => {
          answered += 1;
          res.end("ok");
          r();
        }, delayMs),
      );
    if (serial) queue = queue.then(answer);
    else void answer();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, arrivals, answered: () => answered, maxOutstanding: () => maxOutstanding };
}

/**
 * A server that holds every answer until `count` requests have arrived, then answers each `delayMs` later. Whether
 * the arrivals came before any answer is then a fact, not a matter of how fast the machine runs. After `fallbackMs`
 * it answers everything at once, so that an executor which waits for answers fails on an assertion, not a timeout.
 */
async function heldServer(count: number, delayMs: number, fallbackMs: number) {
  const arrivals: number[] = [];
  const held: (() => void)[] = [];
  let open = false;
  let delay = delayMs;
  const release = () => {
    open = true;
    for (const answer of held.splice(0)) answer();
  };
  const fallback = setTimeout(() => {
    delay = 0;
    release();
  }, fallbackMs);
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    const answer = () =>
      setTimeout(() => {
        res.end("ok");
      }, delay);
    if (open) answer();
    else held.push(answer);
    if (arrivals.length === count) {
      clearTimeout(fallback);
      release();
    }
  });
  server.on("close", () => clearTimeout(fallback));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, arrivals, openedByArrivals: () => open && delay === delayMs };
}

/**
 * The arrivals that came before the schedule let them: arrival i may not reach the server before `started` +
 * `dueMs(i)` (1 ms early at most: the executor starts what is due within the current millisecond). A loaded machine
 * only ever delays arrivals, so this bound holds however slow it is.
 */
function earlyArrivals(arrivals: number[], started: number, dueMs: (i: number) => number): number[] {
  return arrivals.filter((t, i) => t - started < dueMs(i) - 1.5);
}

const ping: Scenario = {
  name: "ping",
  description: "",
  money: false,
  iteration: (_ctx, it) =>
    it.request({ op: "ping", method: "GET", path: "/", token: "", cell: "x" }).then(() => undefined),
};

async function offer(url: string, load: Load, stopRequested?: () => boolean) {
  const client = new LoadClient(url, { connections: 256, timeoutMs: 30_000 });
  try {
    const started = performance.now();
    const result = await offerLoad({
      load,
      scenario: ping,
      ctx: {} as ScenarioContext,
      client,
      books: new Books(),
      thresholds: [],
      abortOnFail: false,
      progress: false,
      ...(stopRequested ? { stopRequested } : {}),
    });
    return { ...result, started };
  } finally {
    await client.close();
  }
}

describe("open model (arrival rate)", () => {
  it("sends at the asked rate while no answer comes back", async () => {
    // Every answer waits until all 100 requests have arrived: a model that waits for answers (closed, or an
    // in-flight cap) could never send them all, whatever the machine's speed. The fallback releases them after 15 s
    // so that such a model fails on the assertions below rather than on the test's timeout.
    const server = await heldServer(100, 400, 15_000);
    const load: Load = { model: "open", rate: 50, ramp: undefined, durationMs: 2000, maxInFlight: 1000 };
    const { recorder, executor, started } = await offer(server.url, load);
    expect(executor.started).toBe(100);
    expect(executor.dropped).toBe(0);
    expect(server.arrivals).toHaveLength(100);
    expect(server.openedByArrivals(), "all 100 requests arrived before any answer").toBe(true);
    // Not faster than asked: no arrival before its due time (50/s: one every 20 ms over the 2 s).
    expect(earlyArrivals(server.arrivals, started, (i) => 20 * i)).toEqual([]);
    // The offering phase lasted the asked 2 s (the last arrival is due at 1980 ms). The upper bound only separates
    // it from a model that waited for the held answers (15 s): a loaded machine's stalls of a few seconds fit.
    expect(executor.offeredMs).toBeGreaterThanOrEqual(1900);
    expect(executor.offeredMs).toBeLessThan(12_000);
    const d = recorder.durations({});
    expect(d?.count).toBe(100);
    expect(d?.min).toBeGreaterThanOrEqual(390);
  });

  it("counts latency from the intended send time: a saturated server shows its queue", async () => {
    // One request at a time, 50 ms each (20/s), offered 40/s for 1.5 s: the 60th answer comes ~3 s after start,
    // ~1.5 s after it was due. The bounds hold however loaded the machine: the k-th answer cannot come before
    // 50·(k+1) ms of serial work, while it was due at 25·k ms, so its latency is at least 25·k + 50 ms.
    const server = await slowServer(50, true);
    const { recorder, executor } = await offer(server.url, {
      model: "open",
      rate: 40,
      ramp: undefined,
      durationMs: 1500,
      maxInFlight: 1000,
    });
    expect(executor.started).toBe(60);
    const d = recorder.durations({});
    expect(d?.count).toBe(60);
    expect(d?.max).toBeGreaterThan(1200);
    expect(d?.percentile(50)).toBeGreaterThan(400);
  });

  it("drops (and counts) arrivals beyond --max-in-flight instead of delaying them", async () => {
    // Answers take 3 s, far longer than the 1 s of arrivals: no slot frees before the last arrival.
    const server = await slowServer(3000, false);
    const { recorder, executor } = await offer(server.url, {
      model: "open",
      rate: 20,
      ramp: undefined,
      durationMs: 1000,
      maxInFlight: 5,
    });
    expect(executor.started).toBe(5);
    expect(executor.dropped).toBe(15);
    expect(recorder.dropped()).toBe(15);
  });

  it("ramps: 0 → 60/s over 2 s sends 60 requests, more of them in the second half", async () => {
    const server = await slowServer(10, false);
    const load: Load = {
      model: "open",
      rate: undefined,
      ramp: [{ durationMs: 2000, target: 60 }],
      durationMs: 2000,
      maxInFlight: 1000,
    };
    const { executor, started } = await offer(server.url, load);
    expect(executor.started).toBe(60);
    expect(server.arrivals).toHaveLength(60);
    // No arrival before the ramp lets it (a constant 30/s, or all at once, would send most of them early). The rate
    // is 30·t per second, so i arrivals are due by t = √(i/15) s: at most 15 of the 60 (+1 due at exactly 1 s) come
    // in the first second, however the machine's load delays the others.
    expect(earlyArrivals(server.arrivals, started, (i) => 1000 * Math.sqrt(i / 15))).toEqual([]);
    const firstHalf = server.arrivals.filter((t) => t - started < 1000).length;
    expect(firstHalf).toBeLessThanOrEqual(16);
  });
});

describe("closed model (virtual users)", () => {
  it("waits for each answer: 1 VU against the serial 50 ms server sees ~50 ms, not a queue", async () => {
    const server = await slowServer(50, true);
    // The run ends after the 10th answer, not after a wall-clock duration: how many iterations fit in a second
    // depends on the machine's load; that each starts only after the previous answer does not.
    const { recorder, executor } = await offer(
      server.url,
      { model: "closed", vus: 1, durationMs: 120_000 },
      () => server.answered() >= 10,
    );
    expect(server.answered()).toBe(10);
    expect(executor.started).toBe(10);
    expect(server.arrivals).toHaveLength(10);
    // Never a request while another was outstanding: no queue at the server.
    expect(server.maxOutstanding()).toBe(1);
    const d = recorder.durations({});
    expect(d?.count).toBe(10);
    expect(d?.min).toBeGreaterThanOrEqual(45);
  });
});
