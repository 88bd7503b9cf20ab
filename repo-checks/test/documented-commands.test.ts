import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { buildCellctl } from "../../control-plane/src/cli/cellctl-program.js";
import { buildCellload } from "../../loadtest/src/cellload/program.js";

/**
 * Every `cellctl …` and `cellload …` command line written in the docs, runbooks and READMEs names commands and
 * options the real programs have: an operator following a runbook at 3 a.m. must not meet "unknown command".
 * Only code (fenced blocks and `inline` spans) is read; prose may talk about commands loosely.
 */
const root = new URL("../../", import.meta.url).pathname;
const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".venv", ".tools", ".data", "cdk.out", "coverage"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : markdownFiles(join(dir, entry.name));
    return entry.name.endsWith(".md") ? [join(dir, entry.name)] : [];
  });
}

/** The code of a Markdown file: fenced blocks line by line, and inline code spans of the other lines. */
function codeLines(text: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) lines.push(line);
    else for (const span of line.matchAll(/`([^`]+)`/g)) lines.push(span[1] ?? "");
  }
  return lines;
}

/**
 * Tokens after each `<program>` word that starts a shell command (at the start of the line, after `$`, `npx`,
 * `$(`, a pipe, `&&` or `;`, or after VAR=value assignments), up to what ends the command or a placeholder list.
 * A comment or a tree diagram that merely mentions the program is not a command.
 */
function invocations(line: string, program: string): string[][] {
  const found: string[][] = [];
  const words = line.trim().split(/\s+/);
  const startsCommand = (i: number): boolean => {
    if (i === 0) return true;
    const before = words[i - 1] as string;
    if (/^(\$|npx|\||&&|;|\$\(|time|exec)$/.test(before) || before.endsWith("$(")) return true;
    return /^[A-Z_][A-Z0-9_]*=/.test(before) && startsCommand(i - 1);
  };
  words.forEach((word, i) => {
    if (word.replace(/^\$\(|^"|^'/, "") !== program) return;
    if (!word.startsWith("$(") && !startsCommand(i)) return;
    if (words.slice(0, i).includes("#")) return;
    const tokens: string[] = [];
    for (const token of words.slice(i + 1)) {
      if (/^(\||\|\||&&|;|#|>|2>|\)|\\)$/.test(token) || /^[|;)#]/.test(token)) break;
      tokens.push(token.replace(/[)"';]+$/, ""));
    }
    found.push(tokens);
  });
  return found;
}

const takesValue = (option: Option) => option.required || option.optional;

function findOption(command: Command, flag: string): Option | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    const option = c.options.find((o) => o.long === flag || o.short === flag);
    if (option) return option;
  }
  return undefined;
}

/** Why the tokens do not name a real command line, or undefined when they do. */
function problemWith(program: Command, tokens: string[]): string | undefined {
  let command = program;
  let positional = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    // A placeholder or an alternative list ends what can be checked.
    if (/^[<[{.…]/.test(token) || token.includes("|") || token === "") return undefined;
    if (token.startsWith("-")) {
      const flag = token.split("=")[0] as string;
      if (flag === "--help" || flag === "-h" || flag === "--") continue;
      const option = findOption(command, flag);
      if (!option) return `${command.name()} has no option ${flag}`;
      if (takesValue(option) && !token.includes("=")) i++;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === token || c.aliases().includes(token));
    if (sub && !positional) {
      command = sub;
      continue;
    }
    if (command.commands.length > 0 && !positional) return `${command.name()} has no subcommand ${token}`;
    positional = true;
  }
  return undefined;
}

describe("command lines in the docs", () => {
  const files = markdownFiles(root);
  const programs: [string, Command][] = [
    ["cellctl", buildCellctl({})],
    ["cellload", buildCellload({})],
  ];

  it("reads the Markdown of the repository", () => {
    expect(files.map((f) => relative(root, f))).toEqual(
      expect.arrayContaining(["README.md", "docs/operations.md", "runbooks/restore-cell.md", "loadtest/README.md"]),
    );
  });

  for (const [name, program] of programs) {
    it(`names only ${name} commands and options that exist`, () => {
      const wrong: string[] = [];
      let checked = 0;
      for (const file of files) {
        for (const line of codeLines(readFileSync(file, "utf8"))) {
          for (const tokens of invocations(line, name)) {
            checked++;
            const problem = problemWith(program, tokens);
            if (problem) wrong.push(`${relative(root, file)}: ${name} ${tokens.join(" ")}: ${problem}`);
          }
        }
      }
      expect(wrong).toEqual([]);
      expect(checked).toBeGreaterThan(name === "cellctl" ? 100 : 10);
    });
  }

  it("names only npm scripts that exist (root, or the workspace given with -w)", () => {
    const scriptsOf = (dir: string): Record<string, string> =>
      JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")).scripts ?? {};
    const wrong: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const line of codeLines(readFileSync(file, "utf8"))) {
        for (const m of line.matchAll(/\bnpm run(?: -s| --silent)? ([A-Za-z0-9:_-]+)(.*)/g)) {
          const script = (m[1] as string).replace(/:$/, ""); // "npm run observe: …" in a file tree
          if (script.startsWith("-")) continue; // "npm run -s" named as a flag in prose
          const workspace = /(?:-w|--workspace)[ =](?:@cellwallet\/)?([A-Za-z0-9_-]+)/.exec(m[2] ?? "")?.[1];
          checked++;
          if (!(script in scriptsOf(workspace ?? "."))) wrong.push(`${relative(root, file)}: npm run ${script}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it("catches a command, a subcommand or an option that does not exist", () => {
    const cellctl = buildCellctl({});
    expect(problemWith(cellctl, ["cells", "describe", "cell-1"])).toBeUndefined();
    expect(problemWith(cellctl, ["backup", "restore", "dir", "--cell", "cell-1", "--force"])).toBeUndefined();
    expect(problemWith(cellctl, ["cels", "list"])).toBe("cellctl has no subcommand cels");
    expect(problemWith(cellctl, ["cells", "destroy", "cell-1"])).toBe("cells has no subcommand destroy");
    expect(problemWith(cellctl, ["users", "migrate", "alice", "--target", "cell-2"])).toBe(
      "migrate has no option --target",
    );
  });
});
