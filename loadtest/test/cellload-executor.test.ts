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
async function slowServer(delayMs: number, serial: boolean): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  let queue = Promise.resolve();
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    const answer = () =>
      new Promise<void>((r) =>
        setTimeout(() => {
          res.end("ok");
          r();
        }, delayMs),
      );
    if (serial) queue = queue.then(answer);
    else void answer();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

const ping: Scenario = {
  name: "ping",
  description: "",
  money: false,
  iteration: (_ctx, it) =>
    it.request({ op: "ping", method: "GET", path: "/", token: "", cell: "x" }).then(() => undefined),
};

async function offer(url: string, load: Load) {
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
    });
    return { ...result, started };
  } finally {
    await client.close();
  }
}

describe("open model (arrival rate)", () => {
  it("sends at the asked rate while every answer takes 400 ms", async () => {
    const server = await slowServer(400, false);
    const { recorder, executor, started } = await offer(server.url, {
      model: "open",
      rate: 50,
      ramp: undefined,
      durationMs: 2000,
      maxInFlight: 1000,
    });
    expect(executor.started).toBe(100);
    expect(executor.dropped).toBe(0);
    expect(server.arrivals).toHaveLength(100);
    // A closed model with the same in-flight count at t=0 would have sent 1 request per 400 ms per VU;
    // here half the requests arrive in the first second, before many answers could have come back.
    const firstSecond = server.arrivals.filter((t) => t - started < 1000).length;
    // (generous bounds: the server shares this process's event loop on a loaded CI machine)
    expect(firstSecond).toBeGreaterThanOrEqual(30);
    expect(firstSecond).toBeLessThanOrEqual(70);
    // The offering phase lasted the asked 2 s, not 100 × 400 ms.
    expect(executor.offeredMs).toBeGreaterThanOrEqual(1900);
    expect(executor.offeredMs).toBeLessThan(3500);
    const d = recorder.durations({});
    expect(d?.count).toBe(100);
    expect(d?.min).toBeGreaterThanOrEqual(390);
  });

  it("counts latency from the intended send time: a saturated server shows its queue", async () => {
    // One request at a time, 50 ms each (20/s), offered 40/s for 1.5 s: the 60th answer comes ~3 s after start,
    // ~1.5 s after it was due.
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
    const { executor, started } = await offer(server.url, {
      model: "open",
      rate: undefined,
      ramp: [{ durationMs: 2000, target: 60 }],
      durationMs: 2000,
      maxInFlight: 1000,
    });
    expect(executor.started).toBe(60);
    const firstHalf = server.arrivals.filter((t) => t - started < 1000).length;
    // Integral of the rate over the first second: 15.
    expect(firstHalf).toBeGreaterThanOrEqual(8);
    expect(firstHalf).toBeLessThanOrEqual(25);
  });
});

describe("closed model (virtual users)", () => {
  it("waits for each answer: 1 VU against the serial 50 ms server sees ~50 ms, not a queue", async () => {
    const server = await slowServer(50, true);
    const { recorder, executor } = await offer(server.url, { model: "closed", vus: 1, durationMs: 1500 });
    expect(executor.started).toBeGreaterThanOrEqual(5);
    expect(executor.started).toBeLessThanOrEqual(30);
    expect(server.arrivals).toHaveLength(executor.started);
    const d = recorder.durations({});
    expect(d?.percentile(50)).toBeLessThan(300);
  });
});
