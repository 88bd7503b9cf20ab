import { createHash } from "node:crypto";
import { JsonNumber, type Problem, problem } from "@cellwallet/contract";
import { Decimal } from "decimal.js";
import type { ApiResponse } from "./api-response.js";
import type { IdempotencyRecord, MoneyPathStore } from "./ledger-store.js";

/** Records are kept at least this long; configuration may only lengthen it. */
export const MIN_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** What identifies one idempotent request: who, which key, and what exactly was asked. */
export interface IdempotencyTicket {
  scopeKey: string;
  fingerprint: string;
  key: string;
  retentionMs: number;
  /**
   * The key's record as read together with the wallet (one round trip, before this process's in-flight check):
   * used once by lookup. It may be stale by then, which is safe: a record written meanwhile makes the commit's
   * own condition fail and the answer is replayed from it, and a fence re-checks the key (run-operation).
   */
  prefetched?: { record: IdempotencyRecord | undefined };
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * Canonical text of a parsed body: sorted keys, numbers by numeric value (so
 * `10.50` and `10.5` are the same number), strings as JSON. "The same request"
 * means the same method, path and this text.
 */
export function canonicalBody(value: unknown): string {
  if (value instanceof JsonNumber) return new Decimal(value.text).toString();
  if (Array.isArray(value)) return `[${value.map(canonicalBody).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalBody(record[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function ticketFor(
  principalSubject: string,
  key: string,
  request: { method: string; path: string; body: unknown },
  retentionMs: number,
): IdempotencyTicket {
  return {
    key,
    scopeKey: sha256(`${principalSubject}\n${key}`),
    fingerprint: sha256(`${request.method.toUpperCase()} ${request.path}\n${canonicalBody(request.body)}`),
    retentionMs: Math.max(retentionMs, MIN_IDEMPOTENCY_RETENTION_MS),
  };
}

/**
 * `walletId`: the wallet the operation acted on, so a migration can copy the record with it. `provisional`:
 * the request may still replace this answer once (a cross-cell transfer's 202, see IdempotencyRecord).
 */
export function recordFor(
  ticket: IdempotencyTicket,
  response: ApiResponse,
  now: number,
  walletId?: string,
  provisional = false,
): IdempotencyRecord {
  const record: IdempotencyRecord = {
    scopeKey: ticket.scopeKey,
    fingerprint: ticket.fingerprint,
    status: response.status,
    contentType: response.contentType,
    body: response.body,
    createdAt: now,
    expiresAt: now + ticket.retentionMs,
  };
  if (response.location !== undefined) record.location = response.location;
  if (walletId !== undefined) record.walletId = walletId;
  if (provisional) record.provisional = true;
  return record;
}

export function replay(record: IdempotencyRecord): ApiResponse {
  const response: ApiResponse = {
    status: record.status,
    contentType: record.contentType,
    body: record.body,
    replayed: true,
  };
  if (record.location !== undefined) response.location = record.location;
  return response;
}

const reused = (): Problem =>
  problem("idempotency-key-reused", "this Idempotency-Key was already used for a different request");

/** Decides from a stored record: replay the same request, refuse a different one. */
export function answerFromRecord(ticket: IdempotencyTicket, record: IdempotencyRecord): ApiResponse | Problem {
  return record.fingerprint === ticket.fingerprint ? replay(record) : reused();
}

/**
 * Requests of this process that are still running, by scope key. A repeat that
 * arrives meanwhile gets 409 (or 422 when it is a different request). Across
 * processes the store's conditional write decides: the loser replays the winner.
 */
export class InFlight {
  private readonly running = new Map<string, string>();

  enter(ticket: IdempotencyTicket): Problem | undefined {
    const fingerprint = this.running.get(ticket.scopeKey);
    if (fingerprint === undefined) {
      this.running.set(ticket.scopeKey, ticket.fingerprint);
      return undefined;
    }
    if (fingerprint !== ticket.fingerprint) return reused();
    return problem(
      "idempotency-in-progress",
      "a request with this Idempotency-Key is still in progress; retry shortly",
    );
  }

  leave(ticket: IdempotencyTicket): void {
    this.running.delete(ticket.scopeKey);
  }
}

/**
 * The stored record as it will stay forever. The first answer a client could see from the record is the one
 * it keeps: reading a provisional record in order to answer from it makes it final as it stands (a
 * conditional write; when another process made it final first, with the 202 or its final answer, that
 * version is read and returned instead).
 */
export async function finalRecord(store: MoneyPathStore, scopeKey: string): Promise<IdempotencyRecord | undefined> {
  // Two rounds suffice: a record leaves the provisional state once and never returns to it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const record = await store.getIdempotency(scopeKey);
    if (!record?.provisional) return record;
    if (await store.finalizeIdempotency(scopeKey)) {
      const { provisional: _nowFinal, ...final } = record;
      return final;
    }
  }
  throw new Error(`idempotency record ${scopeKey} stays provisional`);
}

export async function lookup(
  store: MoneyPathStore,
  ticket: IdempotencyTicket,
): Promise<ApiResponse | Problem | undefined> {
  const prefetched = ticket.prefetched;
  ticket.prefetched = undefined;
  // A provisional record must be made final before anyone is answered from it: read it again to do so.
  const record =
    prefetched && !prefetched.record?.provisional ? prefetched.record : await finalRecord(store, ticket.scopeKey);
  return record ? answerFromRecord(ticket, record) : undefined;
}
