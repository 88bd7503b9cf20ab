import { DEVELOPMENT_INTERNAL_SECRET, MIGRATION_EXPORT_DEFAULT_LIMIT, mintToken, SCOPES } from "@cellwallet/contract";
import type { PlacementStore } from "@cellwallet/placement";
import { MIGRATION_STEPS, type MigrationRecord } from "@cellwallet/placement";
import { CellMigrationClient } from "../migration/cell-migration-client.js";
import type { MigrationDeps, MigrationHooks, MigrationOutcome } from "../migration/migrate-user.js";
import { COMPLETES, type MigrationAction, stepIndex } from "../migration/migration-steps.js";
import type { MoveContext } from "../migration/move-users.js";
import { isProduction, operatorName, recordOperatorAction } from "./cli-env.js";
import { progressWriter } from "./output.js";

/**
 * What the migration commands (users migrate, cells drain, cells rebalance)
 * share: the cell client with its service token, the progress lines, and the
 * test-only fault hook.
 */

/** The service secret cells accept on their internal API; production refuses the development one. */
export function internalSecret(env: NodeJS.ProcessEnv): string {
  const secret = env.CELL_INTERNAL_SECRET || DEVELOPMENT_INTERNAL_SECRET;
  if (isProduction(env) && (secret === DEVELOPMENT_INTERNAL_SECRET || secret.length < 32)) {
    throw new Error("production mode needs a CELL_INTERNAL_SECRET of at least 32 characters (not the development one)");
  }
  return secret;
}

/**
 * TEST-ONLY fault injection: `CELLCTL_FAULT_AFTER_STEP=<step>` makes cellctl kill itself (SIGKILL, no
 * cleanup) right after it persisted that migration step, as a crash would. The end-to-end tests use it to
 * prove that `--resume` and `--rollback` recover from a crash at every step. Refused in production mode.
 */
export const FAULT_AFTER_STEP_VARIABLE = "CELLCTL_FAULT_AFTER_STEP";

export function faultStep(env: NodeJS.ProcessEnv): string | undefined {
  const step = env[FAULT_AFTER_STEP_VARIABLE];
  if (step === undefined || step === "") return undefined;
  if (isProduction(env))
    throw new Error(`${FAULT_AFTER_STEP_VARIABLE} is a test-only fault hook: refused in production mode`);
  if (!(MIGRATION_STEPS as readonly string[]).includes(step)) {
    throw new Error(`${FAULT_AFTER_STEP_VARIABLE} must be one of ${MIGRATION_STEPS.join(", ")}`);
  }
  return step;
}

export function migrationDeps(env: NodeJS.ProcessEnv, store: PlacementStore): MigrationDeps {
  const secret = internalSecret(env);
  const sub = `cellctl.${operatorName(env).replace(/[^A-Za-z0-9._@:-]/g, "_")}`.slice(0, 128);
  let cached: { token: string; until: number } | undefined;
  const ms = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer (ms)`);
    return value;
  };
  return {
    store,
    settleTimeoutMs: ms("CELLCTL_SETTLE_TIMEOUT_MS", 10_000),
    pageSize: ms("CELLCTL_EXPORT_PAGE_SIZE", MIGRATION_EXPORT_DEFAULT_LIMIT),
    cells: new CellMigrationClient({
      requestTimeoutMs: ms("CELLCTL_CELL_TIMEOUT_MS", 5_000),
      retryBudgetMs: ms("CELLCTL_CELL_RETRY_BUDGET_MS", 30_000),
      refreshCell: (cellId) => store.getCell(cellId),
      onReplicaFailure: (cellId, url, reason) =>
        process.stderr.write(`        ${cellId} replica ${url} failed (${reason}); trying another AZ\n`),
      token: async () => {
        if (cached && cached.until > Date.now()) return cached.token;
        const token = await mintToken({ sub, scopes: [SCOPES.internal], secret, ttlSeconds: 300 });
        cached = { token, until: Date.now() + 120_000 };
        return token;
      },
    }),
  };
}

const ACTION_LABEL: Record<MigrationAction, string> = {
  clone: "clone history (user live)",
  freeze: "freeze writes in source",
  settle: "settle pending transfers",
  "copy-tail": "copy the tail",
  activate: "verify chain, activate target",
  flip: "flip placement + epoch",
  "mark-moved": "source read-only (moved)",
  rollback: "roll back",
  done: "done",
};

/** Per-step progress lines (stdout for people; stderr under --json so stdout stays one JSON document). */
export function progressHooks(
  env: NodeJS.ProcessEnv,
  json: boolean,
  prefix = "",
): MigrationHooks & { faultStep: string | undefined; afterPlan: (m: MigrationRecord) => void } {
  const out = (line: string) => (json ? process.stderr : process.stdout).write(`${prefix}${line}\n`);
  const fault = faultStep(env);
  const total = MIGRATION_STEPS.length - 1;
  const crashIfFault = (m: MigrationRecord) => {
    if (fault !== undefined && m.state === "running" && m.step === fault) {
      // TEST-ONLY: die like a crashed process, right after the step was persisted.
      process.kill(process.pid, "SIGKILL");
    }
  };
  return {
    faultStep: fault,
    afterPlan: crashIfFault,
    onAction: (m, action) => {
      if (action === "rollback") out(`  rolling back ${m.migrationId} (from "${m.step}")`);
    },
    onNote: (message) => out(`        ${message}`),
    onStep: (m: MigrationRecord, action, elapsed) => {
      const step = COMPLETES[action];
      const n = step ? `[${stepIndex(step)}/${total}]` : "     ";
      out(
        `  ${n} ${ACTION_LABEL[action].padEnd(30)} done in ${elapsed} ms${m.state === "rolled-back" ? " (rolled back)" : ""}`,
      );
      crashIfFault(m);
    },
  };
}

export function outcomeSummary(outcome: MigrationOutcome): string {
  const m = outcome.migration;
  if (outcome.ok && m) {
    if (m.state === "rolled-back")
      return `rolled back ${m.migrationId}: ${m.userId} stays in ${m.sourceCellId} (writable again)`;
    return (
      `migrated ${m.userId}: ${m.sourceCellId} -> ${m.targetCellId} (epoch ${m.fromEpoch} -> ${m.toEpoch}), ` +
      `writes paused ${m.pauseMs ?? "?"} ms`
    );
  }
  if (outcome.ok) return "done";
  return `${outcome.kind}: ${outcome.reason}`;
}

export function migrationJson(outcome: MigrationOutcome): Record<string, unknown> {
  return {
    ok: outcome.ok,
    ...(outcome.ok ? {} : { kind: outcome.kind, reason: outcome.reason }),
    migration: outcome.migration ?? null,
    pauseMs: outcome.migration?.pauseMs ?? null,
  };
}

/** What drain and rebalance move users with: this operator, the audit trail, progress on the right stream. */
export function moveContext(env: NodeJS.ProcessEnv, store: PlacementStore, json: boolean): MoveContext {
  return {
    deps: migrationDeps(env, store),
    actor: operatorName(env),
    record: (input) => recordOperatorAction(env, input),
    hooks: () => progressHooks(env, json, "    "),
    progress: progressWriter(json),
  };
}
