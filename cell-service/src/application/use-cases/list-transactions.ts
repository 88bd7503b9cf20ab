import { problem } from "@cellwallet/contract";
import { toTransactionView } from "../../domain/ledger-entry.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { loadAuthorized, refusedLoad } from "./load-wallet.js";

export interface ListTransactionsInput {
  walletId: string;
  limit: number;
  cursor?: string;
  fromMs?: number;
  toMs?: number;
}

interface CursorPosition {
  createdAt: number;
  sequence: number;
}

/** Cursors are opaque to clients: base64url of the wallet and the last item's position. */
export function encodeCursor(walletId: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ w: walletId, t: position.createdAt, s: position.sequence })).toString(
    "base64url",
  );
}

export function decodeCursor(walletId: string, cursor: string): CursorPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) return undefined;
    const { w, t, s } = value as Record<string, unknown>;
    if (w !== walletId || !Number.isSafeInteger(t) || !Number.isSafeInteger(s) || (s as number) < 1) return undefined;
    return { createdAt: t as number, sequence: s as number };
  } catch {
    return undefined;
  }
}

export async function listTransactions(
  deps: CellDeps,
  ctx: OperationContext,
  input: ListTransactionsInput,
): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, input.walletId, "wallet:read");
  if (!loaded.ok) return refusedLoad(loaded, ctx.requestId);
  let before: CursorPosition | undefined;
  if (input.cursor !== undefined) {
    before = decodeCursor(input.walletId, input.cursor);
    if (!before) {
      return problemResponse(
        problem("validation-error", "cursor is not valid for this wallet", {
          errors: [{ pointer: "query/cursor", detail: "not a cursor returned for this wallet" }],
        }),
        ctx.requestId,
      );
    }
  }
  // One extra row tells whether another page exists.
  const rows = await deps.store.listEntries(input.walletId, {
    limit: input.limit + 1,
    ...(input.fromMs !== undefined ? { fromMs: input.fromMs } : {}),
    ...(input.toMs !== undefined ? { toMs: input.toMs } : {}),
    ...(before ? { before } : {}),
  });
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > input.limit && last
      ? encodeCursor(input.walletId, { createdAt: last.createdAt, sequence: last.sequence })
      : null;
  return jsonResponse(200, { items: items.map(toTransactionView), nextCursor });
}
