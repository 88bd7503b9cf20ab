import type { CellRecord } from "@cellwallet/placement";
import { Command } from "commander";
import {
  type CellReconciliation,
  type PlatformReconciliation,
  reconcilePlatform,
} from "../reconcile/platform-reconciliation.js";
import {
  auditorToken,
  getFromCell,
  noCellMessage,
  openPlacementStoreFromEnv,
  operatorName,
  recordOperatorAction,
} from "./cli-env.js";
import { positiveInt } from "./cli-options.js";
import { printJson } from "./output.js";

export const CELL_RECONCILIATION_PATH = "/api/v1/cell/reconciliation";

function isReconciliation(body: unknown): body is CellReconciliation {
  const b = body as CellReconciliation | null;
  return typeof b === "object" && b !== null && typeof b.valid === "boolean" && Array.isArray(b.pendingOutgoing);
}

function render(cells: CellReconciliation[], errors: string[], platform: PlatformReconciliation, all: boolean): string {
  const lines = ["SCOPE                CURRENCY         BALANCES         DEPOSITS      WITHDRAWALS       IN TRANSIT"];
  for (const cell of cells) {
    for (const [currency, t] of Object.entries(cell.currencies)) {
      lines.push(
        `${cell.cellId.padEnd(20)} ${currency.padEnd(8)} ${String(t.balances).padStart(16)} ${String(t.deposits).padStart(16)} ` +
          `${String(t.withdrawals).padStart(16)} ${String(t.crossOutPending).padStart(16)}`,
      );
    }
  }
  if (all) {
    for (const [currency, t] of Object.entries(platform.currencies)) {
      lines.push(
        `${"PLATFORM".padEnd(20)} ${currency.padEnd(8)} ${t.balances.padStart(16)} ${t.deposits.padStart(16)} ` +
          `${t.withdrawals.padStart(16)} ${t.inTransit.padStart(16)}`,
      );
    }
  }
  lines.push("(amounts in minor units; in transit: cross-cell transfers debited and not yet credited)");
  lines.push("");
  lines.push(platform.valid && errors.length === 0 ? "RECONCILED" : platform.valid ? "INCOMPLETE" : "MISMATCH");
  for (const m of platform.mismatches) {
    lines.push(`  ${m.scope} ${m.currency} ${m.check}: expected ${m.expected}, found ${m.actual}`);
  }
  for (const e of errors) lines.push(`  error: ${e}`);
  return `${lines.join("\n")}\n`;
}

/**
 * `cellctl reconcile`: each cell's money identities (GET /api/v1/cell/reconciliation)
 * and, with --all, the platform's: balances = deposits − withdrawals − money in
 * transit, and every credited cross-cell transfer accounted for at its source.
 * Exit 0 reconciled, 1 mismatch, 2 a cell or transfer could not be checked.
 */
export function reconcileCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("reconcile")
    .description("Reconcile balances with deposits, withdrawals and cross-cell transfers (one cell or all)")
    .option("--cell <cellId>", "reconcile one cell (its own identities)")
    .option("--all", "reconcile every cell and the platform as a whole")
    .option("--json", "print the report as JSON")
    .option("--timeout <ms>", "per-call timeout in milliseconds", positiveInt, 600_000)
    .addHelpText(
      "after",
      `
Exit status: 0 reconciled, 1 a mismatch, 2 otherwise when something could not be checked, and for --all
over a registry with no cell to reconcile (a wrong WALLET_DATA_DIR or PLACEMENT_*: nothing checked is no pass).

Examples:
  $ cellctl reconcile --all
  $ cellctl reconcile --cell cell-1 --json`,
    )
    .action(async (options: { cell?: string; all?: boolean; json?: boolean; timeout: number }, command: Command) => {
      if (Boolean(options.cell) === Boolean(options.all))
        command.error("give exactly one of --cell <cellId> or --all", { exitCode: 2 });
      let token: string;
      try {
        token = await auditorToken(env, operatorName(env));
      } catch (error) {
        return command.error((error as Error).message, { exitCode: 2 });
      }
      const store = openPlacementStoreFromEnv(env);
      let registry: CellRecord[];
      try {
        registry = await store.listCells();
      } finally {
        await store.close();
      }
      const byId = new Map(registry.map((c) => [c.cellId, c]));
      let targets: CellRecord[];
      if (options.all) {
        targets = registry.filter((c) => c.state !== "retired");
        if (targets.length === 0)
          return command.error(noCellMessage(env, registry.length === 0 ? "cell" : "cell that is not retired"), {
            exitCode: 2,
          });
      } else {
        const cell = byId.get(options.cell as string);
        if (!cell) return command.error(`unknown cell ${options.cell}`, { exitCode: 2 });
        targets = [cell];
      }
      targets.sort((a, b) => a.cellId.localeCompare(b.cellId));
      const reports: CellReconciliation[] = [];
      const errors: string[] = [];
      for (const cell of targets) {
        const answer = await getFromCell(cell, CELL_RECONCILIATION_PATH, token, options.timeout);
        if (!answer.ok) errors.push(`${cell.cellId}: ${answer.error}`);
        else if (answer.status !== 200 || !isReconciliation(answer.body))
          errors.push(`${cell.cellId}: HTTP ${answer.status} from ${answer.url}`);
        else reports.push(answer.body);
      }
      // Which pending outgoing transfers has their destination already credited?
      const credited = new Map<string, boolean>();
      for (const report of reports) {
        if (report.pendingCount > report.pendingOutgoing.length) {
          errors.push(`${report.cellId}: ${report.pendingCount} pending transfers, only some listed`);
        }
        for (const p of report.pendingOutgoing) {
          const destination = byId.get(p.destinationCellId);
          if (!destination) {
            errors.push(`transfer ${p.transferId}: unknown destination cell ${p.destinationCellId}`);
            continue;
          }
          const answer = await getFromCell(
            destination,
            `/api/v1/transfers/${encodeURIComponent(p.transferId)}`,
            token,
            options.timeout,
          );
          if (answer.ok && answer.status === 200) {
            credited.set(p.transferId, (answer.body as { status?: string }).status === "COMPLETED");
          } else if (answer.ok && answer.status === 404) credited.set(p.transferId, false);
          else errors.push(`transfer ${p.transferId}: destination ${p.destinationCellId} could not be asked`);
        }
      }
      const platform = reconcilePlatform(reports, credited, Boolean(options.all) && errors.length === 0);
      if (options.json) {
        printJson({ valid: platform.valid && errors.length === 0, platform, cells: reports, errors });
      } else {
        process.stdout.write(render(reports, errors, platform, Boolean(options.all)));
      }
      try {
        await recordOperatorAction(env, {
          actor: operatorName(env),
          action: "cell.reconcile",
          target: options.all ? "all" : (options.cell as string),
          details: { valid: platform.valid, mismatches: platform.mismatches.length, errors: errors.length },
        });
      } catch (error) {
        errors.push(`could not record this run in the operator audit trail: ${(error as Error).message}`);
        process.stderr.write(`cellctl: ${errors.at(-1)}\n`);
      }
      if (!platform.valid) process.exitCode = 1;
      else if (errors.length > 0) process.exitCode = 2;
    });
}
