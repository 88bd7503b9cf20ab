/**
 * The load gate of a deploy wave (.github/workflows/rollout-wave.yml, "Smoke load test per cell (gate)"):
 * its script run with bash against stand-ins for cellctl (the registry's cells) and cellload (exit codes as
 * the real one's), and every cellload option it uses checked against the real `cellload run --help`.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = new URL("../..", import.meta.url).pathname;
const wave = parse(readFileSync(join(root, ".github", "workflows", "rollout-wave.yml"), "utf8"));
const deploy = parse(readFileSync(join(root, ".github", "workflows", "deploy.yml"), "utf8"));
const steps: { name?: string; run?: string; if?: string }[] = wave.jobs.wave.steps;
const gate = steps.find((s) => s.name === "Smoke load test per cell (gate)");

const CELLS = JSON.stringify({
  cells: [
    { cellId: "cell-1", state: "active" },
    { cellId: "cell-2", state: "cordoned" },
    { cellId: "cell-3", state: "active" },
  ],
});

function runGate(cellloadExit: Record<string, number>) {
  const dir = mkdtempSync(join(tmpdir(), "load-gate-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "cellctl"), `#!/bin/bash\necho '${CELLS}'\n`);
  // cellload: records its arguments and the token file it was given, exits as configured for the cell.
  writeFileSync(
    join(dir, "bin", "cellload"),
    `#!/bin/bash
echo "$*" >> "${dir}/calls"
while [ $# -gt 0 ]; do
  case "$1" in --cell) cell="$2" ;; --token-file) cp "$2" "${dir}/tokens-seen-$cell.json" ;; esac
  shift
done
exit "$(jq -r --arg c "$cell" '.[$c] // 0' "${dir}/exits.json")"
`,
  );
  chmodSync(join(dir, "bin", "cellctl"), 0o755);
  chmodSync(join(dir, "bin", "cellload"), 0o755);
  writeFileSync(join(dir, "exits.json"), JSON.stringify(cellloadExit));
  writeFileSync(join(dir, "calls"), "");
  mkdirSync(join(dir, "work"));
  const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", gate?.run ?? "exit 3"], {
    cwd: join(dir, "work"),
    encoding: "utf8",
    env: {
      PATH: `${join(dir, "bin")}:${process.env.PATH}`,
      ROUTER_URL: "https://wallet.example",
      RATE: "20",
      RUNNER_TEMP: dir,
      CELLLOAD_TOKENS: JSON.stringify({
        "cell-1": { operator: "op-1", users: { a: "t" } },
        "cell-3": { operator: "op-3", users: { b: "t" } },
      }),
    },
  });
  const calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n").filter(Boolean);
  return { code: run.status, out: run.stdout + run.stderr, calls, dir };
}

describe("the deploy wave's load gate", () => {
  it("runs after the rollout step, and every wave job passes the smoke tokens on", () => {
    const names = steps.map((s) => s.name);
    expect(names.indexOf("Smoke load test per cell (gate)")).toBe(names.indexOf("Roll out") + 1);
    expect(gate?.if).toBeUndefined(); // only after a successful wave
    for (const job of ["canary", "wave-2", "wave-3", "rest"]) expect(deploy.jobs[job].secrets).toBe("inherit");
    expect(wave.on.workflow_call.secrets.CELLLOAD_TOKENS.required).toBe(false);
  });

  it("load-tests every active cell through the router with its own smoke users", () => {
    const r = runGate({});
    expect(r.code, r.out).toBe(0);
    expect(r.calls).toHaveLength(2);
    expect(r.calls[0]).toMatch(
      /^run mixed --target https:\/\/wallet\.example --cell cell-1 --rate 20 --duration 60s --token-file \S+tokens-cell-1\.json/,
    );
    expect(r.calls[1]).toMatch(/--cell cell-3 /);
    expect(JSON.parse(readFileSync(join(r.dir, "tokens-seen-cell-3.json"), "utf8")).operator).toBe("op-3");
    expect(r.out).toContain("cell cell-3: load gate passed");
  });

  it("fails the job when a cell fails a threshold (exit 99), its books (exit 1) or its setup (exit 2), testing no further cell", () => {
    const threshold = runGate({ "cell-1": 99 });
    expect(threshold.code).toBe(99);
    expect(threshold.calls).toHaveLength(1);
    const books = runGate({ "cell-3": 1 });
    expect(books.code).toBe(1);
    expect(books.out).toContain("cell cell-1: load gate passed");
    expect(books.out).not.toContain("cell cell-3: load gate passed");
    // A setup that cannot work (exit 2: usage) fails the job as well.
    const setup = runGate({ "cell-1": 2 });
    expect(setup.code).toBe(2);
    expect(setup.calls).toHaveLength(1);
  });

  it("uses only options the real `cellload run --help` lists", () => {
    const help = spawnSync(process.execPath, [join(root, "loadtest/bin/cellload.js"), "run", "--help"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
    });
    expect(help.status, help.stderr).toBe(0);
    const options =
      (gate?.run ?? "")
        .replace(/\\\n\s*/g, " ")
        .match(/cellload run [^\n]*/)?.[0]
        .match(/--[a-z-]+/g) ?? [];
    expect(options.length).toBeGreaterThanOrEqual(6);
    for (const option of options) expect(help.stdout, option).toContain(option);
  });
});
