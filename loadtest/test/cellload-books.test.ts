import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { spawnNodeScript } from "../../test-support/cellctl.js";
import { CELLLOAD, runCellload } from "./run-cellload.js";

/**
 * `--verify`'s books against a real cell process behind a misbehaving proxy, the
 * two halves the lossy-proxy test of cellload-platform.test.ts does not reach:
 * - uncertain outcomes (a 503 or a dropped connection, whether or not the cell
 *   applied the deposit) are settled after the run by re-sending with the same
 *   Idempotency-Key, and the books then match: a replay for the applied ones,
 *   a late execution for the others, never a double application;
 * - a target that applies a deposit twice (a second copy under a fresh key) is
 *   caught: "nothing applied twice" is checked, not assumed;
 * - Ctrl-C in the middle of a run still ends with the books checked and the summary.
 */

type Misbehaviour = (n: number) => "forward" | "applied-503" | "lost-503" | "applied-reset" | "applied-twice";

interface Proxy {
  url: string;
  server: Server;
  /** How often each misbehaviour happened (the first sight of a key only: re-sends are forwarded faithfully). */
  counts: Record<string, number>;
}

async function forward(upstream: string, req: IncomingMessage, body: Buffer, key?: string) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (typeof v === "string" && k !== "host" && k !== "content-length") headers[k] = v;
  if (key !== undefined) headers["idempotency-key"] = key;
  return fetch(`${upstream}${req.url}`, { method: req.method ?? "GET", headers, ...(body.length ? { body } : {}) });
}

async function reply(res: ServerResponse, answer: Response) {
  res
    .writeHead(answer.status, {
      "content-type": answer.headers.get("content-type") ?? "text/plain",
      ...(answer.headers.get("idempotency-replayed") ? { "idempotency-replayed": "true" } : {}),
    })
    .end(Buffer.from(await answer.arrayBuffer()));
}

const UNAVAILABLE = JSON.stringify({ type: "/problems/cell-unavailable", status: 503, code: "cell-unavailable" });

/** Forwards to `upstream`; the run's own deposits (not the set-up's seeds) meet `misbehave` on their first send. */
async function proxy(upstream: string, misbehave: Misbehaviour): Promise<Proxy> {
  const seen = new Set<string>();
  const counts: Record<string, number> = {};
  let deposits = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const key = req.headers["idempotency-key"];
    const runDeposit =
      req.method === "POST" && req.url?.endsWith("/deposit") && body.toString().includes('"bench deposit"');
    if (!runDeposit || typeof key !== "string" || seen.has(key)) return reply(res, await forward(upstream, req, body));
    seen.add(key);
    const what = misbehave(++deposits);
    counts[what] = (counts[what] ?? 0) + 1;
    if (what === "lost-503") {
      res.writeHead(503, { "content-type": "application/problem+json" }).end(UNAVAILABLE);
      return;
    }
    const answer = await forward(upstream, req, body);
    if (what === "forward") return reply(res, answer);
    await answer.arrayBuffer();
    if (what === "applied-503") res.writeHead(503, { "content-type": "application/problem+json" }).end(UNAVAILABLE);
    else if (what === "applied-reset") res.socket?.destroy();
    // the same deposit once more under a fresh key: the cell cannot know it is a duplicate
    else await reply(res, await forward(upstream, req, body, randomUUID()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, counts };
}

describe("cellload --verify: the books against a real cell", () => {
  let cell: CellProcess;
  beforeAll(async () => {
    cell = await startCellProcess({
      WALLET_STORE: "sqlite",
      WALLET_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "cellload-books-")), "ledger.sqlite"),
      CELL_ID: "cell-books",
    });
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  const runDeposits = (target: string) =>
    runCellload([
      "run",
      "deposit",
      "--target",
      target,
      "--rate",
      "25",
      "--duration",
      "2s",
      "--users",
      "5",
      // The 503s and resets fail their checks on purpose; the run is judged by its books here.
      "--threshold",
      "iterations:count==50",
      "--json",
    ]);

  it("settles 503s and dropped answers with the same Idempotency-Key: replayed if applied, executed late if not, books exact", async () => {
    // Of every 10 deposits: one applied but answered 503, one never applied and answered 503, one applied and its
    // connection reset before the answer. 50 deposits → 5 of each.
    const p = await proxy(cell.url, (n) =>
      n % 10 === 3 ? "applied-503" : n % 10 === 6 ? "lost-503" : n % 10 === 9 ? "applied-reset" : "forward",
    );
    try {
      const run = await runDeposits(p.url);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(p.counts).toEqual({ forward: 35, "applied-503": 5, "lost-503": 5, "applied-reset": 5 });
      const summary = JSON.parse(run.stdout);
      expect(summary.requests.failed).toBe(15);
      expect(summary.verify.pass).toBe(true);
      expect(summary.verify.lines).toContain(
        "re-sent with the same key: 5 unanswered + 10 unsettled → 10 replayed, 5 executed late, 0 unknown",
      );
      // 5 seeds + 50 deposits, each applied exactly once.
      expect(summary.verify.lines.join("\n")).toMatch(/\(5 wallets, 55 operations applied, 0 refused\)/);
    } finally {
      await new Promise((r) => p.server.close(r));
    }
  }, 90_000);

  it("fails (exit 1) against a target that applies every 10th deposit twice", async () => {
    const p = await proxy(cell.url, (n) => (n % 10 === 0 ? "applied-twice" : "forward"));
    try {
      const run = await runDeposits(p.url);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(p.counts["applied-twice"]).toBe(5);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const summary = JSON.parse(run.stdout);
      expect(summary.exitCode).toBe(1);
      expect(summary.verify.pass).toBe(false);
      expect(summary.verify.lines.join("\n")).toMatch(/MISMATCH/);
    } finally {
      await new Promise((r) => p.server.close(r));
    }
  }, 90_000);

  it("Ctrl-C (SIGINT) stops the load, settles and checks the books, prints the summary, exits 130", async () => {
    // Through a faithful proxy that sees the run's deposits: SIGINT goes once the load is under way, not a fixed
    // 1.5 s after the set-up (a loaded machine may not have started an iteration by then).
    const p = await proxy(cell.url, () => "forward");
    let run: Awaited<ReturnType<typeof interruptWhen>>;
    try {
      run = await interruptWhen(
        ["run", "deposit", "--target", p.url, "--rate", "10", "--duration", "60s", "--warmup", "0"],
        () => (p.counts.forward ?? 0) > 0,
      );
    } finally {
      await new Promise((r) => p.server.close(r));
    }
    expect(run.code, run.stdout + run.stderr).toBe(130);
    expect(run.stderr).toMatch(/cellload: SIGINT: stopping the load/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Interrupted, which --abort-on-fail's "aborted" is not (summary.json keeps the two apart too).
    expect(run.stdout).toMatch(/ s, INTERRUPTED\)/);
    expect(run.stdout).not.toMatch(/ABORTED/);
    expect(run.stdout).toMatch(/verify: PASS/);
    expect(run.stdout).toMatch(/result: INTERRUPTED/);
    const started = Number(/iterations (\d+)/.exec(run.stdout)?.[1]);
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThan(600);
  }, 90_000);

  it("Ctrl-C during capacity: the steps so far, the highest that held as a lower bound, the books checked, exit 130", async () => {
    // Every step holds (a lenient SLO) and the climb would go on to 1000/s: Ctrl-C once the first step is reported.
    const run = await interruptWhen(
      [
        "capacity",
        "--target",
        cell.url,
        "--scenario",
        "deposit",
        "--users",
        "3",
        "--start",
        "5",
        "--factor",
        "2",
        "--max-rate",
        "1000",
        "--step-duration",
        // SIGINT goes as the first step is reported: the second step has these 4 s to be still under way when it
        // arrives, however late a loaded machine delivers it
        "4s",
        "--slo",
        "p(99)<100000",
        "--max-error",
        "0.99",
      ],
      (stderr) => stderr.includes("/s offered"),
    );
    expect(run.code, run.stdout + run.stderr).toBe(130);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toMatch(/highest rate that held: 5\/s offered/);
    expect(run.stdout).toMatch(/interrupted \(Ctrl-C\): the search stopped early/);
    expect(run.stdout).toMatch(/verify: PASS/);
    expect(run.stdout).not.toMatch(/ 1000\/s offered/);
  }, 90_000);
});

/** Runs cellload as a process and sends it SIGINT as soon as `ready` (given its stderr so far) holds. */
async function interruptWhen(args: string[], ready: (stderr: string) => boolean) {
  const run = spawnNodeScript(CELLLOAD, args, {
    HOME: tmpdir(),
    ...(process.env.WALLET_JWT_SECRET ? { WALLET_JWT_SECRET: process.env.WALLET_JWT_SECRET } : {}),
  });
  let exitedEarly = false;
  void run.done.then(() => {
    exitedEarly = true;
  });
  while (!ready(run.output().stderr) && !exitedEarly) await new Promise((r) => setTimeout(r, 20));
  run.child.kill("SIGINT");
  const { code, stdout, stderr } = await run.done;
  return { code, stdout, stderr };
}
