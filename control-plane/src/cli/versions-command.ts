import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Command } from "commander";
import type { LocalPlatformState } from "../local/local-platform-state.js";
import { openLocalPlatformState } from "../rollout/open-rollout.js";
import { operatorName, recordOperatorAction } from "./cli-env.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function withState<T>(env: NodeJS.ProcessEnv, command: Command, use: (state: LocalPlatformState) => T): T {
  const state = openLocalPlatformState(env);
  if (!state) {
    return command.error(
      `cellctl: no local platform in ${env.WALLET_DATA_DIR ?? ".data"}: start it once with npm start`,
      {
        exitCode: EXIT_USAGE,
      },
    );
  }
  try {
    return use(state);
  } finally {
    state.close();
  }
}

function addCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("add")
    .description("Name a build of the cell service so the local driver can roll it out")
    .argument("<name>", "the version name (reported by the cells as CELL_VERSION)")
    .requiredOption("--entry <script>", "the build's cell entry script, e.g. /opt/builds/v2/cell-service/dist/main.js")
    .addHelpText(
      "after",
      `
The local platform's own build is the version "dev". Re-adding a name points it at the new entry
(for processes started from then on).

Exit status: 0 added, 1 could not be recorded, 2 usage (bad name, missing entry, no local platform).

Examples:
  $ cellctl versions add v2 --entry ../cellwallet-v2/cell-service/dist/main.js
  $ cellctl versions list`,
    )
    .action(async (name: string, options: { entry: string }, command: Command) => {
      if (!NAME.test(name))
        command.error("cellctl: a version name is 1..64 of A-Z a-z 0-9 . _ -", { exitCode: EXIT_USAGE });
      const entry = resolve(options.entry);
      if (!existsSync(entry)) command.error(`cellctl: no file ${entry}`, { exitCode: EXIT_USAGE });
      // No local platform (a mistyped WALLET_DATA_DIR): refused before anything is recorded or created.
      withState(env, command, () => undefined);
      try {
        await recordOperatorAction(env, {
          actor: operatorName(env),
          action: "version.add",
          target: name,
          details: { entry },
        });
      } catch (error) {
        command.error(`cellctl: nothing changed: could not record version.add: ${(error as Error).message}`, {
          exitCode: EXIT_REFUSED,
        });
      }
      withState(env, command, (state) => state.registerVersion({ name, entry }));
      process.stdout.write(`version ${name} -> ${entry}\n`);
    });
}

function listCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("list")
    .description("List the named builds and which cell processes run each")
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      `
Exit status: 0 listed, 2 usage or no local platform in WALLET_DATA_DIR (start it with npm start).

Examples:
  $ cellctl versions list
  $ cellctl versions list --json`,
    )
    .action((options: { json?: boolean }, command: Command) => {
      withState(env, command, (state) => {
        const observed = state.observed().processes;
        const versions = state.versions().map((v) => ({
          ...v,
          running: observed
            .filter((p) => p.version === v.name && p.status === "running")
            .map((p) => `${p.cellId}/${p.az}`),
        }));
        if (options.json) {
          printJson({ versions, processes: observed });
          return;
        }
        const lines = ["VERSION      RUNNING ON                                   ENTRY"];
        for (const v of versions)
          lines.push(`${v.name.padEnd(12)} ${(v.running.join(",") || "-").padEnd(44)} ${v.entry}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      });
    });
}

/** `cellctl versions add | list`: the named builds of the local platform (the local rollout driver's versions). */
export function versionsCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("versions")
    .description("Name the cell-service builds the local platform can run (for rollouts with the local driver)")
    .addCommand(addCommand(env))
    .addCommand(listCommand(env));
}
