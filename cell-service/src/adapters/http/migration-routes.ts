import {
  JsonNumber,
  MIGRATION_EXPORT_DEFAULT_LIMIT,
  MIGRATION_EXPORT_MAX_LIMIT,
  MIGRATION_PATH_PREFIX,
  type MigrationExportPage,
  problem,
} from "@cellwallet/contract";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { jsonResponse, problemResponse } from "../../application/api-response.js";
import { exportWallet } from "../../application/migration/export-wallet.js";
import { importWallet } from "../../application/migration/import-wallet.js";
import type { MigrationItem } from "../../application/migration/migration-items.js";
import { abandon, activate, freeze, markMoved, unfreeze } from "../../application/migration/ownership-steps.js";
import { settleWallet } from "../../application/migration/settle-wallet.js";
import { currentStatus } from "../../application/migration/wallet-status.js";
import type { CellDeps } from "../../application/operation-context.js";
import type { Result } from "../../domain/result.js";
import type { CellEnv } from "./context.js";
import type { CellMetrics } from "./metrics.js";
import { itemFromJson, itemToJson, MigrationItemSchema } from "./migration-codec.js";
import { send, sendProblem } from "./respond.js";
import { fieldErrors } from "./validation-hook.js";

/**
 * The cell side of moving a user between cells (contract/src/migration-api.ts,
 * docs/migration.md). Mounted under /internal, so every call has already passed
 * the service-token check (401 without a token, 403 without wallet:internal).
 */

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;
const MIGRATION_ID = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/);
const EPOCH = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const CELL = z.string().regex(/^[a-z0-9-]{1,40}$/);
const HASH = z.string().regex(/^[0-9a-f]{64}$/);

// Bodies are parsed losslessly: numbers arrive as JsonNumber, made plain numbers for these small integers.
function plain(value: unknown): unknown {
  if (value instanceof JsonNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: plain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const Freeze = z.strictObject({ migrationId: MIGRATION_ID, epoch: EPOCH, targetCellId: CELL });
const Unfreeze = z.strictObject({ migrationId: MIGRATION_ID, epoch: EPOCH });
const Moved = z.strictObject({ migrationId: MIGRATION_ID, epoch: EPOCH, targetCellId: CELL });
const Activate = z.strictObject({
  migrationId: MIGRATION_ID,
  epoch: EPOCH,
  expectedVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  expectedHeadHash: HASH,
});
const Abandon = z.strictObject({ migrationId: MIGRATION_ID });
const Settle = z.strictObject({ migrationId: MIGRATION_ID.optional(), epoch: EPOCH.optional() });
const Import = z.strictObject({
  migrationId: MIGRATION_ID,
  epoch: EPOCH,
  sourceCellId: CELL,
  items: z.array(z.unknown()).max(20_000),
});

type Step = "status" | "export" | "freeze" | "settle" | "unfreeze" | "import" | "activate" | "abandon" | "moved";

interface MigrationEdge {
  deps: CellDeps;
  metrics: CellMetrics;
}

/** Runs a validated step for one user. */
type StepRun<S extends z.ZodType> = (
  deps: CellDeps,
  userId: string,
  body: z.infer<S>,
  c: Context<CellEnv>,
) => Promise<Result<unknown>>;

export function registerMigrationRoutes(app: OpenAPIHono<CellEnv>, deps: CellDeps, metrics: CellMetrics): void {
  const edge = { deps, metrics };
  app.get(`${MIGRATION_PATH_PREFIX}/:userId`, (c) => migrationStatusRequest(c, edge));
  app.get(`${MIGRATION_PATH_PREFIX}/:userId/export`, (c) => migrationExportRequest(c, edge));
  mountStep(app, edge, "freeze", Freeze, (d, userId, body) => freeze(d, userId, body));
  mountStep(app, edge, "unfreeze", Unfreeze, (d, userId, body) => unfreeze(d, userId, body));
  mountStep(app, edge, "moved", Moved, (d, userId, body) => markMoved(d, userId, body));
  mountStep(app, edge, "activate", Activate, (d, userId, body) => activate(d, userId, body));
  mountStep(app, edge, "abandon", Abandon, (d, userId, body) => abandon(d, userId, body));
  mountStep(app, edge, "settle", Settle, (d, userId, _body, c) => settleWallet(d, userId, c.get("requestId")));
  mountStep(app, edge, "import", Import, importStep);
}

const count = (edge: MigrationEdge, step: Step, outcome: string) => edge.metrics.migrationSteps.inc({ step, outcome });

function invalid(
  c: Context<CellEnv>,
  edge: MigrationEdge,
  step: Step,
  detail: string,
  errors?: { pointer: string; detail: string }[],
) {
  count(edge, step, "invalid");
  return sendProblem(c, problem("validation-error", detail, errors ? { errors } : undefined));
}

function userOf(c: Context<CellEnv>): string | undefined {
  const userId = c.req.param("userId");
  return userId !== undefined && USER_ID.test(userId) ? userId : undefined;
}

const BAD_USER = "userId must be 1..128 of A-Z a-z 0-9 . _ @ : -";

function answer<T>(
  c: Context<CellEnv>,
  edge: MigrationEdge,
  step: Step,
  result: Result<T>,
  body: (value: T) => unknown = (v) => v,
) {
  if (!result.ok) {
    count(edge, step, result.problem.code === "migration-conflict" ? "conflict" : "invalid");
    return send(c, problemResponse(result.problem, c.get("requestId")));
  }
  count(edge, step, "ok");
  return send(c, jsonResponse(200, body(result.value)));
}

/** GET …/:userId: where the user's wallet stands in a move. */
async function migrationStatusRequest(c: Context<CellEnv>, edge: MigrationEdge) {
  const userId = userOf(c);
  if (!userId) return invalid(c, edge, "status", BAD_USER);
  count(edge, "status", "ok");
  return send(c, jsonResponse(200, await currentStatus(edge.deps.store, userId, true)));
}

/** GET …/:userId/export: a page of the wallet's records for the target cell. */
async function migrationExportRequest(c: Context<CellEnv>, edge: MigrationEdge) {
  const userId = userOf(c);
  if (!userId) return invalid(c, edge, "export", BAD_USER);
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? MIGRATION_EXPORT_DEFAULT_LIMIT : Number(limitText);
  if (!/^[1-9][0-9]{0,5}$/.test(limitText ?? "1") || limit > MIGRATION_EXPORT_MAX_LIMIT) {
    return invalid(c, edge, "export", `limit must be 1..${MIGRATION_EXPORT_MAX_LIMIT}`, [
      { pointer: "query/limit", detail: `1..${MIGRATION_EXPORT_MAX_LIMIT}` },
    ]);
  }
  const cursor = c.req.query("cursor");
  if (cursor !== undefined && cursor.length > 64 * 1024) return invalid(c, edge, "export", "the cursor is too long");
  const page = await exportWallet(edge.deps, userId, cursor, limit);
  return answer(
    c,
    edge,
    "export",
    page,
    (p): MigrationExportPage => ({
      status: p.status,
      items: p.items.map(itemToJson),
      ...(p.nextCursor !== undefined ? { nextCursor: p.nextCursor } : {}),
      tailCursor: p.tailCursor,
    }),
  );
}

/** POST …/:userId/<step>: validates the body against `schema`, then runs the step. */
function mountStep<S extends z.ZodType>(
  app: OpenAPIHono<CellEnv>,
  edge: MigrationEdge,
  step: Step,
  schema: S,
  run: StepRun<S>,
): void {
  app.post(`${MIGRATION_PATH_PREFIX}/:userId/${step}`, async function migrationStepRequest(c) {
    const userId = userOf(c);
    if (!userId) return invalid(c, edge, step, BAD_USER);
    const parsed = schema.safeParse(plain(c.get("parsedBody")));
    if (!parsed.success) {
      const errors = fieldErrors("json", parsed.error.issues as Parameters<typeof fieldErrors>[1]);
      return invalid(c, edge, step, `not a ${step} request`, errors);
    }
    try {
      return answer(c, edge, step, await run(edge.deps, userId, parsed.data, c));
    } catch (error) {
      count(edge, step, "error");
      throw error;
    }
  });
}

/** The import step: every item of the page must be an export item, then the page is imported. */
async function importStep(deps: CellDeps, userId: string, body: z.infer<typeof Import>): Promise<Result<unknown>> {
  const items: MigrationItem[] = [];
  for (const [index, raw] of body.items.entries()) {
    const parsed = MigrationItemSchema.safeParse(raw);
    if (!parsed.success) {
      const errors = fieldErrors("json", parsed.error.issues as Parameters<typeof fieldErrors>[1]).map((e) => ({
        ...e,
        pointer: `/items/${index}${e.pointer}`,
      }));
      return { ok: false, problem: problem("validation-error", `item ${index} is not an export item`, { errors }) };
    }
    items.push(itemFromJson(parsed.data));
  }
  return importWallet(deps, userId, { ...body, items });
}
