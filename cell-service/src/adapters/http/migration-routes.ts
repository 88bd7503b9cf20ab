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

export function registerMigrationRoutes(app: OpenAPIHono<CellEnv>, deps: CellDeps, metrics: CellMetrics): void {
  const count = (step: Step, outcome: string) => metrics.migrationSteps.inc({ step, outcome });

  const invalid = (c: Context<CellEnv>, step: Step, detail: string, errors?: { pointer: string; detail: string }[]) => {
    count(step, "invalid");
    return sendProblem(c, problem("validation-error", detail, errors ? { errors } : undefined));
  };

  const userOf = (c: Context<CellEnv>): string | undefined => {
    const userId = c.req.param("userId");
    return userId !== undefined && USER_ID.test(userId) ? userId : undefined;
  };

  const answer = <T>(c: Context<CellEnv>, step: Step, result: Result<T>, body: (value: T) => unknown = (v) => v) => {
    if (!result.ok) {
      count(step, result.problem.code === "migration-conflict" ? "conflict" : "invalid");
      return send(c, problemResponse(result.problem, c.get("requestId")));
    }
    count(step, "ok");
    return send(c, jsonResponse(200, body(result.value)));
  };

  /** Validates the body against `schema`, then runs the step. */
  const post = <S extends z.ZodType>(
    step: Step,
    schema: S,
    run: (userId: string, body: z.infer<S>, c: Context<CellEnv>) => Promise<Result<unknown>>,
  ) => {
    app.post(`${MIGRATION_PATH_PREFIX}/:userId/${step}`, async (c) => {
      const userId = userOf(c);
      if (!userId) return invalid(c, step, "userId must be 1..128 of A-Z a-z 0-9 . _ @ : -");
      const parsed = schema.safeParse(plain(c.get("parsedBody")));
      if (!parsed.success) {
        const errors = fieldErrors("json", parsed.error.issues as Parameters<typeof fieldErrors>[1]);
        return invalid(c, step, `not a ${step} request`, errors);
      }
      try {
        return answer(c, step, await run(userId, parsed.data, c));
      } catch (error) {
        count(step, "error");
        throw error;
      }
    });
  };

  app.get(`${MIGRATION_PATH_PREFIX}/:userId`, async (c) => {
    const userId = userOf(c);
    if (!userId) return invalid(c, "status", "userId must be 1..128 of A-Z a-z 0-9 . _ @ : -");
    count("status", "ok");
    return send(c, jsonResponse(200, await currentStatus(deps.store, userId, true)));
  });

  app.get(`${MIGRATION_PATH_PREFIX}/:userId/export`, async (c) => {
    const userId = userOf(c);
    if (!userId) return invalid(c, "export", "userId must be 1..128 of A-Z a-z 0-9 . _ @ : -");
    const limitText = c.req.query("limit");
    const limit = limitText === undefined ? MIGRATION_EXPORT_DEFAULT_LIMIT : Number(limitText);
    if (!/^[1-9][0-9]{0,5}$/.test(limitText ?? "1") || limit > MIGRATION_EXPORT_MAX_LIMIT) {
      return invalid(c, "export", `limit must be 1..${MIGRATION_EXPORT_MAX_LIMIT}`, [
        { pointer: "query/limit", detail: `1..${MIGRATION_EXPORT_MAX_LIMIT}` },
      ]);
    }
    const cursor = c.req.query("cursor");
    if (cursor !== undefined && cursor.length > 64 * 1024) return invalid(c, "export", "the cursor is too long");
    const page = await exportWallet(deps, userId, cursor, limit);
    return answer(
      c,
      "export",
      page,
      (p): MigrationExportPage => ({
        status: p.status,
        items: p.items.map(itemToJson),
        ...(p.nextCursor !== undefined ? { nextCursor: p.nextCursor } : {}),
        tailCursor: p.tailCursor,
      }),
    );
  });

  post("freeze", Freeze, (userId, body) => freeze(deps, userId, body));
  post("unfreeze", Unfreeze, (userId, body) => unfreeze(deps, userId, body));
  post("moved", Moved, (userId, body) => markMoved(deps, userId, body));
  post("activate", Activate, (userId, body) => activate(deps, userId, body));
  post("abandon", Abandon, (userId, body) => abandon(deps, userId, body));
  post("settle", Settle, (userId, _body, c) => settleWallet(deps, userId, c.get("requestId")));
  post("import", Import, async (userId, body) => {
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
  });
}
