import { Command, CommanderError } from "commander";
import { auditLogCommand } from "./audit-log-command.js";
import { azCommand } from "./az-command.js";
import { backupCommand } from "./backup-command.js";
import { canaryCommand } from "./canary-command.js";
import { cellsCommand } from "./cells-command.js";
import { checkpointsCommand } from "./checkpoints-command.js";
import { EXIT_USAGE } from "./operator-prompt.js";
import { printJsonFailure, wantsJson } from "./output.js";
import { reconcileCommand } from "./reconcile-command.js";
import { rolloutCommand } from "./rollout-command.js";
import { tokenCommand } from "./token-command.js";
import { usersCommand } from "./users-command.js";
import { verifyCommand } from "./verify-command.js";
import { versionsCommand } from "./versions-command.js";

/** cellctl: the operators' and CI's command line for the Cellwallet platform. */
export function buildCellctl(env: NodeJS.ProcessEnv): Command {
  const program = new Command("cellctl")
    .description("Operate the Cellwallet platform")
    .addHelpText(
      "after",
      `
Exit status: each command's help lists its own. Everywhere: 2 for a usage error (unknown command or
option, missing argument) and when the command could not run at all (e.g. the placement registry cannot
be opened, or there is none where WALLET_DATA_DIR or PLACEMENT_SQLITE_PATH point: only cells register,
cells create and token create it); never 1, which always means the command ran and found or refused something.`,
    )
    .addCommand(tokenCommand(env))
    .addCommand(verifyCommand(env))
    .addCommand(checkpointsCommand(env))
    .addCommand(reconcileCommand(env))
    .addCommand(auditLogCommand(env))
    .addCommand(cellsCommand(env))
    .addCommand(azCommand(env))
    .addCommand(rolloutCommand(env))
    .addCommand(versionsCommand(env))
    .addCommand(usersCommand(env))
    .addCommand(backupCommand(env))
    .addCommand(canaryCommand(env));
  // A group (cells, az, rollout…) runs nothing itself: its help says where the statuses are.
  for (const group of program.commands.filter((c) => c.commands.length > 0)) {
    group.addHelpText(
      "after",
      `
Exit status: each command's help lists its own (cellctl ${group.name()} <command> --help); 2 for an unknown or
missing command.`,
    );
  }
  return program;
}

/** The whole tree, depth first (settings given to addCommand'ed subcommands are not inherited). */
export function everyCommand(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => everyCommand(c))];
}

/**
 * A refusal that lists its reasons on lines of their own ("refusing to evacuate az-3:\n  cell-1: …\n  cell-2: …")
 * as the one line the docs promise and scripts and log collectors expect: "refusing to evacuate az-3: cell-1: …;
 * cell-2: …". Every reason is kept.
 */
export function singleLine(message: string): string {
  const parts = message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return parts.reduce((text, part) => (text === "" ? part : `${text}${text.endsWith(":") ? " " : "; "}${part}`), "");
}

/**
 * Commander's own parse errors ("error: unknown option '--x'") as one line that says where the help is; a
 * command's refusal (command.error) as one line too, every reason kept.
 */
function errorText(message: string, command: Command): string {
  const prefix = (text: string) => (text.startsWith("cellctl:") ? text : `cellctl: ${text}`);
  if (!/^error:/i.test(message)) return `${prefix(singleLine(message))}\n`;
  const first =
    message
      .replace(/^error:\s*/i, "")
      .trim()
      .split("\n")[0] ?? "";
  const path: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) path.unshift(c.name());
  return `${prefix(first)} (see: ${path.join(" ")} --help)\n`;
}

/**
 * Parses and runs one cellctl invocation and returns its exit status: usage errors exit 2 with one line on
 * stderr, a command's own `command.error` keeps the status it gave, and an unexpected failure (a store that
 * cannot be opened, a bug) is one line and 2 — never a stack trace, never the 1 that reports a finding.
 */
export async function runCellctl(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = buildCellctl(env);
  for (const command of everyCommand(program)) {
    command.exitOverride();
    command.configureOutput({ outputError: (message, write) => write(errorText(message, command)) });
  }
  const fail = (message: string, exitCode: number) => {
    if (wantsJson(argv)) printJsonFailure(oneLine(message), exitCode);
    return exitCode;
  };
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help asked for (--help, or `cellctl help [command]` / `cellctl cells help list`: "commander.help" with
      // exit code 0): 0. Help shown because no command was given ("commander.help", exit code 1): a usage error.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      if (error.code === "commander.help" && error.exitCode === 0) return 0;
      // command.error() from an action: its own documented status (default 1 is never used for usage below).
      if (error.code === "commander.error") return fail(error.message, error.exitCode);
      return fail(error.message, EXIT_USAGE);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cellctl: ${oneLine(message)}\n`);
    return fail(message, EXIT_USAGE);
  }
}

/** A failure as one line, without commander's "error:" or our "cellctl:" prefix (for the JSON object). */
function oneLine(message: string): string {
  return singleLine(message).replace(/^(error:|cellctl:)\s*/i, "");
}
