import type { CellRecord } from "@cellwallet/placement";
import { Command } from "commander";
import {
  auditorToken,
  getFromCell,
  noCellMessage,
  openPlacementStoreFromEnv,
  recordOperatorAction,
} from "./cli-env.js";
import { positiveInt } from "./cli-options.js";
import { printJson } from "./output.js";

/** The cell's answer to GET /api/v1/cell/audit (see cell-service/src/application/cell-verification.ts). */
interface CellReport {
  cellId: string;
  valid: boolean;
  wallets: number;
  entries: number;
  invalidCount: number;
  invalidWallets: { walletId: string; firstInvalidSequence: number | null; entries: number; reason?: string }[];
  durationMs: number;
  checkpoints?: {
    count: number;
    latestSequence: number | null;
    anchored: boolean;
    valid: boolean;
    problems: { sequence: number; reason: string }[];
  };
}

type Outcome = { cellId: string; ok: true; report: CellReport } | { cellId: string; ok: false; error: string };

export const CELL_AUDIT_PATH = "/api/v1/cell/audit";

function isReport(body: unknown): body is CellReport {
  const b = body as CellReport | null;
  return typeof b === "object" && b !== null && typeof b.valid === "boolean" && Array.isArray(b.invalidWallets);
}

function checkpointCell(r: CellReport): string {
  const c = r.checkpoints;
  if (!c || c.count === 0) return "none";
  return `${c.count} ${c.valid ? "ok" : "INVALID"}`;
}

function table(outcomes: Outcome[]): string {
  const lines = ["CELL                 STATUS    WALLETS    ENTRIES  INVALID  CHECKPOINTS  TIME"];
  const details: string[] = [];
  for (const o of outcomes) {
    if (!o.ok) {
      lines.push(
        `${o.cellId.padEnd(20)} ERROR     ${"-".padStart(7)} ${"-".padStart(10)} ${"-".padStart(8)}  ${"-".padEnd(11)}  -`,
      );
      details.push(`  ${o.cellId}: ${o.error}`);
      continue;
    }
    const r = o.report;
    lines.push(
      `${o.cellId.padEnd(20)} ${(r.valid ? "VALID" : "INVALID").padEnd(9)} ${String(r.wallets).padStart(7)} ` +
        `${String(r.entries).padStart(10)} ${String(r.invalidCount).padStart(8)}  ${checkpointCell(r).padEnd(11)}  ` +
        `${(r.durationMs / 1000).toFixed(2)}s`,
    );
    for (const p of r.checkpoints?.problems ?? []) details.push(`  ${o.cellId} checkpoint ${p.sequence}: ${p.reason}`);
    for (const w of r.invalidWallets) {
      details.push(
        `  ${o.cellId} wallet ${w.walletId}: first invalid sequence ${w.firstInvalidSequence} (${w.reason ?? "invalid"})`,
      );
    }
    if (r.invalidCount > r.invalidWallets.length) {
      details.push(`  ${o.cellId}: ... and ${r.invalidCount - r.invalidWallets.length} more invalid wallets`);
    }
  }
  return `${[...lines, ...(details.length > 0 ? ["", ...details] : [])].join("\n")}\n`;
}

/**
 * `cellctl verify`: asks each cell to verify itself (GET /api/v1/cell/audit on a
 * replica from the placement registry, with an auditor token) and prints the
 * result. Exit 0: every cell valid; 1: tampering found; 2: a cell could not be verified.
 */
export function verifyCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("verify")
    .description("Verify every wallet's hash chain, balance and sequences in one cell or all cells")
    .option("--cell <cellId>", "the cell to verify")
    .option("--all", "verify every cell in the registry (except retired ones)")
    .option("--json", "print the cells' reports as JSON")
    .option("--timeout <ms>", "per-cell timeout in milliseconds", positiveInt, 600_000)
    .option("--operator <name>", "who runs the verification (the token's subject)", env.USER || "cellctl")
    .addHelpText(
      "after",
      `
Exit status: 0 every cell verified and valid, 1 tampering or inconsistency found
(in any cell), 2 otherwise when a cell could not be verified (unknown, unreachable, refused), and for --all
over a registry with no cell to verify (a wrong WALLET_DATA_DIR or PLACEMENT_*: nothing checked is no pass).

Examples:
  $ cellctl verify --cell cell-1
  $ cellctl verify --all --json`,
    )
    .action(
      async (
        options: { cell?: string; all?: boolean; json?: boolean; timeout: number; operator: string },
        command: Command,
      ) => {
        if (Boolean(options.cell) === Boolean(options.all))
          command.error("give exactly one of --cell <cellId> or --all", { exitCode: 2 });
        let token: string;
        try {
          token = await auditorToken(env, options.operator);
        } catch (error) {
          return command.error((error as Error).message, { exitCode: 2 });
        }
        const store = openPlacementStoreFromEnv(env);
        let cells: CellRecord[];
        try {
          if (options.all) {
            const registry = await store.listCells();
            cells = registry.filter((c) => c.state !== "retired");
            if (cells.length === 0)
              return command.error(noCellMessage(env, registry.length === 0 ? "cell" : "cell that is not retired"), {
                exitCode: 2,
              });
          } else {
            const cell = await store.getCell(options.cell as string);
            if (!cell) return command.error(`unknown cell ${options.cell}`, { exitCode: 2 });
            cells = [cell];
          }
        } finally {
          await store.close();
        }
        cells.sort((a, b) => a.cellId.localeCompare(b.cellId));
        const outcomes: Outcome[] = [];
        for (const cell of cells) {
          const answer = await getFromCell(cell, CELL_AUDIT_PATH, token, options.timeout);
          if (!answer.ok) outcomes.push({ cellId: cell.cellId, ok: false, error: answer.error });
          else if (answer.status !== 200 || !isReport(answer.body))
            outcomes.push({ cellId: cell.cellId, ok: false, error: `HTTP ${answer.status} from ${answer.url}` });
          else outcomes.push({ cellId: cell.cellId, ok: true, report: answer.body });
        }
        if (options.json) {
          const cellsOut = outcomes.map((o) => (o.ok ? o.report : { cellId: o.cellId, error: o.error }));
          printJson({ valid: outcomes.every((o) => o.ok && o.report.valid), cells: cellsOut });
        } else {
          process.stdout.write(table(outcomes));
        }
        try {
          await recordOperatorAction(env, {
            actor: options.operator,
            action: "cell.verify",
            target: options.all ? "all" : (options.cell as string),
            details: {
              cells: outcomes.map((o) =>
                o.ok
                  ? { cellId: o.cellId, valid: o.report.valid, invalidCount: o.report.invalidCount }
                  : { cellId: o.cellId, error: o.error },
              ),
            },
          });
        } catch (error) {
          process.stderr.write(
            `cellctl: could not record this run in the operator audit trail: ${(error as Error).message}\n`,
          );
          process.exitCode = 2;
        }
        // Evidence of tampering outranks an unreachable cell: 1 wins over 2.
        if (outcomes.some((o) => o.ok && !o.report.valid)) process.exitCode = 1;
        else if (outcomes.some((o) => !o.ok)) process.exitCode = 2;
      },
    );
}
