import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCellload } from "./run-cellload.js";

/** `cellload` as a process: bad input is one line on stderr and exit 2, never a stack trace. */

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function expectOneLineUsageError(run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^cellload: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe("cellload command line", () => {
  const target = "http://127.0.0.1:9";

  it("lists the scenarios, one line each", async () => {
    const run = await runCellload(["scenarios"]);
    expect(run.code).toBe(0);
    const names = run.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual([
      "journey",
      "deposit",
      "transfer-same-cell",
      "transfer-cross-cell",
      "hot-wallet",
      "read-mostly",
      "onboarding-burst",
      "mixed",
    ]);
  });

  it("documents exit codes and examples in --help", async () => {
    const run = await runCellload(["run", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit status: 0 passed, 99 a threshold failed/);
    expect(run.stdout).toMatch(/\$ cellload run journey --target/);
  });

  it("refuses an unknown scenario", async () => {
    expectOneLineUsageError(
      await runCellload(["run", "jogging", "--target", target]),
      /unknown scenario "jogging"; known: journey/,
    );
  });

  it("refuses a malformed threshold", async () => {
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--threshold", "http_req_duration:p99<100"]),
      /malformed threshold/,
    );
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--threshold", "latency:p(99)<1"]),
      /unknown metric latency/,
    );
  });

  it("refuses a bad URL", async () => {
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", "localhost:8080"]),
      /--target must be an http\(s\) URL/,
    );
    expectOneLineUsageError(await runCellload(["run", "deposit"]), /--target <url> is required/);
  });

  it("refuses a negative or zero rate, and mixed executors", async () => {
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--rate", "-5"]),
      /--rate must be greater than zero/,
    );
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--rate=0"]),
      /--rate must be greater than zero/,
    );
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--vus", "4", "--rate", "10"]),
      /cannot be combined/,
    );
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--duration", "soon"]),
      /--duration/,
    );
    expectOneLineUsageError(await runCellload(["capacity", "--target", target, "--factor", "1"]), /--factor/);
  });

  it("refuses an --out it cannot write before offering any load, and a --max-rate below --start", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cellload-out-")), "a-file");
    writeFileSync(file, "");
    // The target is unreachable too: the --out check comes first, before anything is sent.
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--out", file]),
      /^cellload: --out .*a-file: cannot write there \(EEXIST\)$/,
    );
    expectOneLineUsageError(
      await runCellload(["capacity", "--target", target, "--out", join(file, "sub")]),
      /^cellload: --out .*a-file\/sub: cannot write there \(ENOTDIR\)$/,
    );
    // Under /proc Node's own recursive mkdir never returns: this must be an error, not a hang.
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--out", "/proc/cellload-test/out"]),
      /^cellload: --out \/proc\/cellload-test\/out: cannot write there \(ENOENT\)$/,
    );
    expectOneLineUsageError(
      await runCellload(["capacity", "--target", target, "--start", "50", "--max-rate", "10"]),
      /--max-rate \(10\/s\) must be at least --start \(50\/s\)/,
    );
  });

  it("refuses an unknown option", async () => {
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", target, "--bogus"]),
      /unknown option '--bogus'/,
    );
  });

  it("says so when the target is unreachable at the start (exit 2)", async () => {
    const port = await closedPort();
    expectOneLineUsageError(
      await runCellload(["run", "deposit", "--target", `http://127.0.0.1:${port}`, "--duration", "1s"]),
      /unreachable: ECONNREFUSED/,
    );
  });

  it("says what --target is when it answers /metrics with an error (a URL with a path), not 'unreachable'", async () => {
    const server = createHttpServer((_req, res) => res.writeHead(401).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/wallet`;
    try {
      const run = await runCellload(["run", "deposit", "--target", url, "--duration", "1s"]);
      expectOneLineUsageError(run, /answered GET \/metrics with 401: --target is a router's or cell's base URL/);
      expect(run.stderr).not.toMatch(/unreachable/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
