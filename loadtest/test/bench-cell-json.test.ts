import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * `bench:cell --json` as a user runs it (the built script, a real cell process and the ceiling server): one
 * JSON document on stdout with the ceiling, per-scenario figures and the issue #15 targets; the Markdown
 * report on stderr. One-second scenarios: this checks the output, never the speed.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}loadtest/dist/bench-cell.js`, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

interface Figures {
  scenario: string;
  connections: number;
  rps: number;
  cpuMicrosPerOp: number | null;
  peakRssMb: number | null;
  ratioToCeilingPost?: number;
  groupCommits?: { commits: number; meanBatch: number };
}

describe("bench:cell --json", () => {
  it("prints the ceiling, the figures of every scenario and the targets, and passes the invariants", async () => {
    const result = await run(["--adapter", "sqlite", "--duration", "1", "--wallets", "4", "--json"]);
    expect(result.stderr).toMatch(/## Verdict/);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      pass: boolean;
      adapters: {
        adapter: string;
        ceiling: { postRps: number; getRps: number; postRuns: number[] };
        figures: Figures[];
        targets: { target: string; met: boolean }[];
      }[];
    };
    expect(doc.pass).toBe(true);
    const [sqlite] = doc.adapters;
    expect(sqlite?.adapter).toBe("sqlite");
    expect(sqlite?.ceiling.postRuns).toHaveLength(2);
    expect(sqlite?.ceiling.postRps).toBeGreaterThan(0);
    expect(sqlite?.figures.map((f) => f.scenario)).toEqual([
      "deposit, 1 connection",
      "deposit",
      "transfer (same cell)",
      "GET wallet",
    ]);
    for (const f of sqlite?.figures ?? []) {
      expect(f.rps).toBeGreaterThan(0);
      expect(f.cpuMicrosPerOp).toBeGreaterThan(0);
      expect(f.peakRssMb).toBeGreaterThan(0);
      if (f.connections === 32) expect(f.ratioToCeilingPost).toBeGreaterThan(0);
    }
    const deposit = sqlite?.figures.find((f) => f.scenario === "deposit");
    expect(deposit?.groupCommits?.commits).toBeGreaterThan(0);
    expect(sqlite?.targets.map((t) => t.target)).toContain("deposits / ceiling POST");
  }, 120_000);

  it("refuses an unknown option with exit 2 and the usage", async () => {
    const result = await run(["--jsn"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/Usage: npm run bench:cell/);
  });
});
