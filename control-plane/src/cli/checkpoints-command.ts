import { Command, InvalidArgumentError } from "commander";
import { auditorToken, getFromCell, openPlacementStoreFromEnv, operatorName, recordOperatorAction } from "./cli-env.js";
import { positiveInt } from "./cli-options.js";
import { printJson } from "./output.js";

function sequence(value: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new InvalidArgumentError("a checkpoint sequence (1, 2, 3…)");
  return Number(value);
}

interface CheckpointSummary {
  sequence: number;
  createdAt: number;
  wallets: number;
  entries: number;
  totals: Record<string, string>;
  hash: string;
  keyId: string;
}

/**
 * `cellctl checkpoints`: lists a cell's signed checkpoints, or exports one with
 * every wallet head it signed and its public key (JSON on stdout, to be stored
 * outside the platform and checked offline).
 */
export function checkpointsCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("checkpoints")
    .description("List a cell's signed checkpoints, or export one (heads + public key) as JSON")
    .requiredOption("--cell <cellId>", "the cell")
    .option("--export <sequence>", "print checkpoint <sequence> with its wallet heads as JSON", sequence)
    .option("--json", "print the list as JSON")
    .option("--timeout <ms>", "timeout in milliseconds", positiveInt, 60_000)
    .addHelpText(
      "after",
      `
Exit status: 0 listed or exported, 2 usage, unknown cell or sequence, or the cell could not be read.

Examples:
  $ cellctl checkpoints --cell cell-1
  $ cellctl checkpoints --cell cell-1 --export 42 > cell-1-checkpoint-42.json`,
    )
    .action(async (options: { cell: string; export?: number; json?: boolean; timeout: number }, command: Command) => {
      let token: string;
      try {
        token = await auditorToken(env, operatorName(env));
      } catch (error) {
        return command.error((error as Error).message, { exitCode: 2 });
      }
      const store = openPlacementStoreFromEnv(env);
      const cell = await store.getCell(options.cell).finally(() => store.close());
      if (!cell) return command.error(`unknown cell ${options.cell}`, { exitCode: 2 });
      const path =
        options.export === undefined ? "/api/v1/cell/checkpoints" : `/api/v1/cell/checkpoints/${options.export}`;
      const answer = await getFromCell(cell, path, token, options.timeout);
      if (!answer.ok) return command.error(`cell ${cell.cellId}: ${answer.error}`, { exitCode: 2 });
      if (answer.status !== 200) {
        const detail = (answer.body as { detail?: string } | undefined)?.detail ?? "";
        return command.error(`cell ${cell.cellId}: HTTP ${answer.status} ${detail}`.trim(), { exitCode: 2 });
      }
      if (options.export !== undefined) {
        try {
          await recordOperatorAction(env, {
            actor: operatorName(env),
            action: "checkpoint.export",
            target: cell.cellId,
            details: { sequence: options.export },
          });
        } catch (error) {
          return command.error(`refusing to export unrecorded: ${(error as Error).message}`, { exitCode: 2 });
        }
      }
      if (options.export !== undefined || options.json) {
        printJson(answer.body);
        return;
      }
      const items = (answer.body as { items: CheckpointSummary[] }).items;
      const lines = ["SEQ   CREATED                   WALLETS    ENTRIES  TOTALS                HASH"];
      for (const c of items) {
        const totals = Object.entries(c.totals)
          .map(([currency, minor]) => `${currency}:${minor}`)
          .join(",");
        lines.push(
          `${String(c.sequence).padEnd(5)} ${new Date(c.createdAt).toISOString().padEnd(25)} ` +
            `${String(c.wallets).padStart(7)} ${String(c.entries).padStart(10)}  ${totals.padEnd(20)}  ${c.hash.slice(0, 16)}`,
        );
      }
      if (items.length === 0) lines.push("(no checkpoints yet)");
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
