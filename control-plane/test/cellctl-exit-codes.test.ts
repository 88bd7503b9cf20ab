import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { describe, expect, it, vi } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { buildCellctl, everyCommand, runCellctl as runCellctlProgram } from "../src/cli/cellctl-program.js";

/**
 * cellctl's documented exit codes hold for what operators and CI scripts get wrong: every command given bad
 * arguments exits 2 with exactly one line on stderr (no stack trace, no help dump), and a command that cannot
 * run at all (no registry) exits 2 — never 1, which reports a finding (tampering, a mismatch, a refusal).
 */
/** An empty registry that exists (cellctl refuses a missing one, see cellctl-registry-missing.test.ts). */
async function emptyRegistry(path: string): Promise<string> {
  await new SqlitePlacementStore({ path }).close();
  return path;
}
const emptyRegistryPath = await emptyRegistry(join(mkdtempSync(join(tmpdir(), "cellctl-exit-")), "placement.sqlite"));
const registry = () => ({ PLACEMENT_SQLITE_PATH: emptyRegistryPath });

function pathOf(command: ReturnType<typeof buildCellctl>): string[] {
  const path: string[] = [];
  for (let c: typeof command | null = command; c?.parent; c = c.parent) path.unshift(c.name());
  return path;
}

async function expectUsageError(args: string[], env: Record<string, string> = registry()) {
  const run = await runCellctl(args, env);
  const what = `cellctl ${args.join(" ")} -> ${run.code}: ${run.stderr}`;
  expect(run.code, what).toBe(2);
  expect(run.stderr.trim().split("\n"), what).toHaveLength(1);
  expect(run.stderr, what).toMatch(/^cellctl: /);
  expect(run.stderr, what).not.toMatch(/\n\s+at /);
  return run;
}

describe("cellctl exit codes", () => {
  const leaves = everyCommand(buildCellctl({})).filter((c) => c.parent && c.commands.length === 0);

  it("knows its commands", () => {
    expect(leaves.map((c) => pathOf(c).join(" "))).toEqual(
      expect.arrayContaining(["verify", "cells describe", "cells rebalance", "users migrate", "rollout start"]),
    );
  });

  it("exits 2 with one line for an unknown option on every command", async () => {
    // In-process (the same runCellctl the bin runs; parsing fails before any action): a process each would
    // cost a minute of CI. The process-level behaviour is checked below on a sample.
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      for (const command of leaves) {
        written.length = 0;
        const code = await runCellctlProgram(["node", "cellctl", ...pathOf(command), "--no-such-option"], registry());
        const stderr = written.join("");
        const what = `${pathOf(command).join(" ")} -> ${code}: ${stderr}`;
        expect(code, what).toBe(2);
        expect(stderr.trim().split("\n"), what).toHaveLength(1);
        // Commander reports a missing required option or argument before an unknown one: either is usage.
        expect(stderr, what).toMatch(/unknown option '--no-such-option'|required option|missing required argument/);
        expect(stderr, what).toContain(`(see: cellctl ${pathOf(command).join(" ")} --help)`);
      }
    } finally {
      write.mockRestore();
      process.exitCode = undefined;
    }
    await expectUsageError(["users", "migrate", "alice", "--no-such-option"]);
  }, 60_000);

  it("exits 2 with one line for usage errors and an unknown cell", async () => {
    await expectUsageError(["verify"]);
    await expectUsageError(["reconcile"]);
    await expectUsageError(["nosuch"]);
    await expectUsageError(["cells", "describe"]);
    await expectUsageError(["verify", "--cell"]);
    await expectUsageError(["token", "--sub", "bad user!"]);
    expect((await expectUsageError(["backup", "list", "--dir", "/no/such/dir"])).stderr).toBe(
      "cellctl: /no/such/dir is not a directory\n",
    );
    expect((await expectUsageError(["backup", "verify", "/no/such/dir"])).stderr).toContain("is not a backup");
    const unknown = await expectUsageError(["cells", "describe", "nope"]);
    expect(unknown.stderr).toContain("unknown cell nope");
    // No command at all: the help goes to stderr, and it is a usage error.
    const bare = await runCellctl([], registry());
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("Usage: cellctl");
  }, 60_000);

  it("exits 2, not 1 (tampering), when the registry cannot be reached, and says it is the registry", async () => {
    const env = {
      PLACEMENT_STORE: "dynamodb",
      DYNAMODB_ENDPOINT: "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_REGION: "us-east-1",
      AWS_MAX_ATTEMPTS: "1",
    };
    for (const args of [
      ["verify", "--all"],
      ["reconcile", "--all"],
      ["cells", "list"],
      ["audit-log"],
      // The mint is recorded in the operator audit trail, in the registry: not reaching it is 2, not a refusal.
      ["token", "--sub", "alice"],
    ]) {
      const run = await runCellctl(args, env);
      const what = `${args.join(" ")}: ${run.stderr}`;
      expect(run.code, what).toBe(2);
      expect(run.stdout, what).toBe("");
      expect(run.stderr, what).not.toMatch(/\n\s+at /);
      expect(run.stderr.trim().split("\n"), what).toHaveLength(1);
      expect(run.stderr, what).toMatch(
        /^cellctl: (refusing to mint an unrecorded token: )?(operator audit trail in the )?placement registry \(dynamodb at http:\/\/127\.0\.0\.1:9\): .*ECONNREFUSED/,
      );
    }
  }, 60_000);

  it("exits 2, not 0, when --all finds no cell in the registry (a wrong WALLET_DATA_DIR checks nothing)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cellctl-empty-"));
    const where = `sqlite ${await emptyRegistry(join(dataDir, "control-plane", "placement.sqlite"))}`;
    const line = `cellctl: no cell in the registry at ${where} (check WALLET_DATA_DIR or PLACEMENT_*)\n`;
    for (const command of ["verify", "reconcile"]) {
      const run = await runCellctl([command, "--all"], { WALLET_DATA_DIR: dataDir });
      expect([run.code, run.stdout, run.stderr], command).toEqual([2, "", line]);
      const json = await runCellctl([command, "--all", "--json"], { WALLET_DATA_DIR: dataDir });
      expect([json.code, JSON.parse(json.stdout)], command).toEqual([
        2,
        { error: { message: line.replace(/^cellctl: /, "").trim(), exitCode: 2 } },
      ]);
    }
    const canary = await runCellctl(["canary", "run", "--all", "--once"], { WALLET_DATA_DIR: dataDir });
    expect([canary.code, canary.stderr]).toEqual([
      2,
      `cellctl: no cell to test in the registry at ${where} (check WALLET_DATA_DIR or PLACEMENT_*)\n`,
    ]);
  }, 60_000);

  it("refuses an invalid value of every numeric option with one usage line (exit 2)", async () => {
    // Every option's value placeholder, as the help texts show them: a new one must be classified here.
    const NUMERIC = new Set(["<ms>", "<n>", "<users>", "<w>", "<factor>", "<percent>", "<s>", "<port>", "<sequence>"]);
    const DURATION = new Set(["<duration>"]); // "15m", "10s": numbers with a unit
    const TEXT = new Set(
      "<userId> <scopes> <cellId> <name> <az=url> <target> <version> <driver> <id> <url> <file> <groups> <azs> <dir> <ns> <path> <script> <prefix> <cellId...> <az>".split(
        " ",
      ),
    );
    const numeric: { path: string[]; flag: string; args: string[] }[] = [];
    for (const command of everyCommand(buildCellctl({}))) {
      for (const option of command.options) {
        const placeholder = /<[^>]+>/.exec(option.flags)?.[0];
        if (!placeholder) continue;
        const what = `${pathOf(command).join(" ")} ${option.flags}`;
        expect(NUMERIC.has(placeholder) || DURATION.has(placeholder) || TEXT.has(placeholder), what).toBe(true);
        if (TEXT.has(placeholder)) continue;
        const args = command.registeredArguments.map(() => "cell-1");
        numeric.push({ path: pathOf(command), flag: option.long as string, args });
      }
    }
    expect(numeric.map((o) => `${o.path.join(" ")} ${o.flag}`)).toEqual(
      expect.arrayContaining([
        "cells describe --timeout",
        "checkpoints --timeout",
        "reconcile --timeout",
        "audit-log --tail",
      ]),
    );
    const cases = [
      ...numeric.map((o) => ({ ...o, value: "abc" })),
      ...["-1", "1.5"].map((value) => ({ path: ["audit-log"], flag: "--tail", args: [], value })),
      { path: ["verify"], flag: "--timeout", args: [], value: "-5" },
    ];
    const env = registry();
    // Two at a time: each is a process (the 2-core CI machine).
    for (let i = 0; i < cases.length; i += 2) {
      await Promise.all(
        cases.slice(i, i + 2).map(async ({ path, flag, args, value }) => {
          const run = await expectUsageError([...path, ...args, flag, value], env);
          expect(run.stderr).toMatch(
            new RegExp(`option '${flag}[ ,<].*argument '${value.replace(".", "\\.")}' is invalid`),
          );
          expect(run.stderr).toContain(`(see: cellctl ${path.join(" ")} --help)`);
          expect(run.stdout).toBe("");
        }),
      );
    }
  }, 120_000);

  it("answers a failure under --json with one JSON error object on stdout and the same exit status", async () => {
    const env = registry();
    for (const [args, code, text] of [
      [["cells", "describe", "nope", "--json"], 2, "unknown cell nope"],
      [["cells", "list", "--json", "--no-such-option"], 2, "unknown option '--no-such-option'"],
      [["cells", "drain", "nope", "--yes", "--json"], 2, "unknown cell nope"],
    ] as const) {
      const run = await runCellctl([...args], env);
      const what = `cellctl ${args.join(" ")} -> ${run.code}: ${run.stdout} ${run.stderr}`;
      expect(run.code, what).toBe(code);
      const answer = JSON.parse(run.stdout) as { error: { message: string; exitCode: number } };
      expect(answer.error.exitCode, what).toBe(code);
      expect(answer.error.message, what).toContain(text);
      expect(answer.error.message, what).not.toMatch(/^cellctl:|\n/);
    }
  }, 60_000);

  it("prints a refusal with several reasons as one line, every reason kept, on stderr and under --json", async () => {
    const env = registry();
    const args = ["rollout", "plan", "--version", "v 2", "--canary", "cell-9"];
    const run = await runCellctl(args, env);
    expect([run.code, run.stdout], run.stderr).toEqual([2, ""]);
    expect(run.stderr).toMatch(
      /^cellctl: the plan is refused: version must be [^\n]*; unknown cell cell-9(; [^\n]*)?\n$/,
    );
    const json = await runCellctl([...args, "--json"], env);
    expect([json.code, JSON.parse(json.stdout)]).toEqual([
      2,
      { error: { message: run.stderr.replace(/^cellctl: /, "").trim(), exitCode: 2 } },
    ]);
  }, 60_000);

  it("exits 0 for --help", async () => {
    const run = await runCellctl(["cells", "rebalance", "--help"], registry());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Exit status");
  });

  it("has an Exit status section in the help of every command and sub-command", () => {
    for (const command of everyCommand(buildCellctl({}))) {
      let help = "";
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      expect(help, `cellctl ${pathOf(command).join(" ")} --help`).toMatch(/\nExit status: /);
    }
  });

  it("exits 0 for help asked with the help command, as for --help (the help on stdout, nothing else)", async () => {
    const env = registry();
    for (const args of [
      ["help"],
      ["help", "verify"],
      ["help", "verify", "--json"],
      ["cells", "help", "list"],
      ["help", "cells"],
      ["audit-log", "--help"],
      ["cells", "list", "--help"],
      ["versions", "list", "--help"],
    ]) {
      const run = await runCellctl(args, env);
      const what = `cellctl ${args.join(" ")} -> ${run.code}: ${run.stderr}`;
      expect([run.code, run.stderr], what).toEqual([0, ""]);
      expect(run.stdout, what).toMatch(/^Usage: cellctl/);
      expect(run.stdout, what).toContain("Exit status");
      expect(run.stdout, what).not.toContain('"error"');
    }
  }, 60_000);
});
