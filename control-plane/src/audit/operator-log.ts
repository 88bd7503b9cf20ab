import { canonicalSha256, GENESIS_HASH } from "@cellwallet/contract";

/**
 * The operators' audit trail: who did what, when, to what — hash-chained like
 * the ledger (each record commits to the previous one), append-only in both
 * stores. Pure rules here; the stores are in operator-log-store.ts.
 */
export interface OperatorActionInput {
  /** Who: the operator (OS user or --operator). */
  actor: string;
  /** What: e.g. "token.mint", "cell.verify", "cell.reconcile", "checkpoint.export". */
  action: string;
  /** On what: a cell id, a subject, "all". */
  target: string;
  /** Outcome and parameters (never secrets or tokens). */
  details: Record<string, unknown>;
}

export interface OperatorRecord extends OperatorActionInput {
  sequence: number;
  /** RFC 3339 UTC. */
  at: string;
  prevHash: string;
  hash: string;
}

export function operatorRecordHash(record: Omit<OperatorRecord, "hash">): string {
  return canonicalSha256({
    sequence: record.sequence,
    at: record.at,
    actor: record.actor,
    action: record.action,
    target: record.target,
    details: record.details,
    prevHash: record.prevHash,
  });
}

export function nextOperatorRecord(
  previous: OperatorRecord | undefined,
  input: OperatorActionInput,
  nowMs: number,
): OperatorRecord {
  const at = new Date(Math.max(nowMs, previous ? Date.parse(previous.at) : 0)).toISOString();
  const body = {
    sequence: (previous?.sequence ?? 0) + 1,
    at,
    actor: input.actor,
    action: input.action,
    target: input.target,
    details: input.details,
    prevHash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...body, hash: operatorRecordHash(body) };
}

/** Streaming verifier: records in ascending sequence; reports the first invalid one. */
export class OperatorLogVerifier {
  private count = 0;
  private head = GENESIS_HASH;
  private firstInvalid: { sequence: number; reason: string } | undefined;

  add(record: OperatorRecord): void {
    this.count += 1;
    if (this.firstInvalid) return;
    const reason =
      record.sequence !== this.count
        ? `expected record ${this.count}, found ${record.sequence}`
        : record.prevHash !== this.head
          ? "prevHash does not link to the previous record"
          : operatorRecordHash(record) !== record.hash
            ? "hash does not match the record's contents"
            : undefined;
    if (reason) this.firstInvalid = { sequence: this.count, reason };
    else this.head = record.hash;
  }

  result(): {
    valid: boolean;
    records: number;
    headHash: string;
    firstInvalidSequence: number | null;
    reason?: string;
  } {
    return {
      valid: this.firstInvalid === undefined,
      records: this.count,
      headHash: this.head,
      firstInvalidSequence: this.firstInvalid?.sequence ?? null,
      ...(this.firstInvalid ? { reason: this.firstInvalid.reason } : {}),
    };
  }
}
