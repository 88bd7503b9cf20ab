import { call, forEachLimited } from "./http.js";

/**
 * The client's own books: every state-changing request the benchmark builds,
 * with its Idempotency-Key, and what it did to which wallet once its outcome is
 * known. The invariant check compares the cell's balances with these books.
 *
 * An outcome is definitive when the cell answered 201 (applied) or a stored
 * business refusal (422). Anything else — no answer before the run stopped, a
 * timeout, a 5xx, a 409 in progress — is resolved after the run by sending the
 * very same request again with the same key: the cell then either replays the
 * stored outcome or runs the operation for the first time. Either way the
 * answer is definitive, which is exactly what Idempotency-Key is for.
 *
 * A cross-cell transfer (through the router) may also be answered 202: the
 * source is debited and the transfer PENDING until the destination cell confirms
 * the credit. The books count it as applied at once and keep it "in transit";
 * settleInTransit() then polls GET /transfers/{id} until it is COMPLETED (as
 * booked) or FAILED (refunded: the credit is taken back and the source gets a
 * refund entry).
 */

export interface MoneyOp {
  key: string;
  kind: "seed" | "deposit" | "withdraw" | "transfer";
  path: string;
  body: string;
  token: string;
  /** Wallet credited (deposit, seed, transfer destination). */
  credit?: string;
  /** Wallet debited (withdraw, transfer source). */
  debit?: string;
  amountMinor: bigint;
}

export interface WalletBooks {
  balance: bigint;
  /** Ledger entries the cell must hold for the wallet. */
  entries: number;
}

export interface ResolutionStats {
  /** Built but never answered during the run (in flight at the end, or lost to a timeout). */
  unanswered: number;
  /** Answered during the run with something that does not settle it (5xx, 409, other). */
  unsettled: number;
  /** Of those re-sent: answered from the stored outcome (Idempotency-Replayed). */
  replayed: number;
  /** Of those re-sent: run for the first time now. */
  executedLate: number;
  /** Still without a definitive outcome after every retry: the books cannot be exact. */
  unknown: number;
}

export interface TransitStats {
  /** Cross-cell transfers answered 202 (debited, credit not yet confirmed). */
  accepted: number;
  completed: number;
  /** FAILED: the destination refused the credit, the source was refunded. */
  failed: number;
  /** Still PENDING (or unreadable) when settleInTransit gave up. */
  unknown: number;
}

export class Books {
  readonly wallets = new Map<string, WalletBooks>();
  readonly totals = { seeded: 0n, deposited: 0n, withdrawn: 0n, transferred: 0n };
  readonly counts = { applied: 0, refused: 0, failed: 0 };
  /** Built, outcome not yet definitive. */
  private readonly open = new Map<string, MoneyOp>();
  /** Answered with a non-definitive status during the run. */
  private readonly unsettled = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** Cross-cell transfers answered 202, by transfer id, not yet seen COMPLETED or FAILED. */
  private readonly inTransit = new Map<string, MoneyOp>();
  readonly transit: TransitStats = { accepted: 0, completed: 0, failed: 0, unknown: 0 };

  addWallet(walletId: string): void {
    this.wallets.set(walletId, { balance: 0n, entries: 0 });
  }

  track(op: MoneyOp): void {
    this.open.set(op.key, op);
  }

  /** Records an answer; returns true when it settled the operation. */
  answer(key: string, status: number, body: string): boolean {
    const op = this.open.get(key);
    if (!op) return false;
    const transferId = status === 202 && op.kind === "transfer" ? transferIdOf(body) : undefined;
    if (status === 201) {
      this.apply(op);
    } else if (transferId !== undefined) {
      // Cross-cell transfer accepted: booked now, settled (or refunded) by settleInTransit().
      this.apply(op);
      this.inTransit.set(transferId, op);
      this.transit.accepted += 1;
    } else if (status === 422) {
      // A stored business refusal (insufficient-funds): definitive, changes nothing.
      this.counts.refused += 1;
    } else if (status >= 400 && status < 500 && status !== 409 && status !== 422) {
      // 400/401/403/404 are answered before the operation runs: it did not happen (and is not stored).
      this.counts.failed += 1;
      const label = `${op.kind} ${status} ${codeOf(body)}`;
      this.failures.set(label, (this.failures.get(label) ?? 0) + 1);
    } else {
      this.unsettled.add(key);
      return false;
    }
    this.open.delete(key);
    this.unsettled.delete(key);
    return true;
  }

  private apply(op: MoneyOp): void {
    this.counts.applied += 1;
    if (op.debit !== undefined) this.move(op.debit, -op.amountMinor);
    if (op.credit !== undefined) this.move(op.credit, op.amountMinor);
    if (op.kind === "seed") this.totals.seeded += op.amountMinor;
    else if (op.kind === "deposit") this.totals.deposited += op.amountMinor;
    else if (op.kind === "withdraw") this.totals.withdrawn += op.amountMinor;
    else this.totals.transferred += op.amountMinor;
  }

  private move(walletId: string, delta: bigint): void {
    const books = this.wallets.get(walletId);
    if (!books) throw new Error(`books: unknown wallet ${walletId}`);
    books.balance += delta;
    books.entries += 1;
  }

  /** Expected sum of all balances: seeded + deposits − withdrawals (transfers inside the cell net to zero). */
  expectedTotal(): bigint {
    return this.totals.seeded + this.totals.deposited - this.totals.withdrawn;
  }

  unexpectedFailures(): Map<string, number> {
    return this.failures;
  }

  /** Re-sends every operation whose outcome is not definitive, with the same key, until it is. */
  async resolveOpen(baseUrl: string): Promise<ResolutionStats> {
    const stats: ResolutionStats = {
      unanswered: this.open.size - this.unsettled.size,
      unsettled: this.unsettled.size,
      replayed: 0,
      executedLate: 0,
      unknown: 0,
    };
    await forEachLimited([...this.open.values()], 8, async (op) => {
      // Up to ~2 minutes: under contention the original may still be retrying inside the cell (409 meanwhile).
      for (let attempt = 1; attempt <= 40; attempt++) {
        let status = 0;
        let text = "";
        let replayed = false;
        try {
          const res = await call(baseUrl, "POST", op.path, { token: op.token, body: op.body, idempotencyKey: op.key });
          status = res.status;
          text = res.text;
          replayed = res.headers.get("idempotency-replayed") === "true";
        } catch {
          // network trouble: try again
        }
        if (this.answer(op.key, status, text)) {
          if (replayed) stats.replayed += 1;
          else stats.executedLate += 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * attempt)));
      }
      stats.unknown += 1;
    });
    return stats;
  }

  openCount(): number {
    return this.open.size;
  }

  inTransitCount(): number {
    return this.inTransit.size;
  }

  /**
   * Polls every cross-cell transfer answered 202 (GET /transfers/{id} with `token`, or the sender's own)
   * until it is COMPLETED or FAILED; a FAILED one is re-booked as refunded. Gives up after `timeoutMs`.
   */
  async settleInTransit(baseUrl: string, token: string | undefined, timeoutMs = 60_000): Promise<TransitStats> {
    const deadline = Date.now() + timeoutMs;
    await forEachLimited([...this.inTransit.entries()], 8, async ([transferId, op]) => {
      for (let attempt = 1; ; attempt++) {
        let status: string | undefined;
        try {
          const res = await call(baseUrl, "GET", `/api/v1/transfers/${encodeURIComponent(transferId)}`, {
            token: token ?? op.token,
          });
          if (res.status === 200) status = res.body?.status;
        } catch {
          // network trouble: try again
        }
        if (status === "COMPLETED" || status === "FAILED") {
          if (status === "FAILED") this.refund(op);
          else this.transit.completed += 1;
          this.inTransit.delete(transferId);
          return;
        }
        if (Date.now() > deadline) {
          this.transit.unknown += 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
      }
    });
    return { ...this.transit };
  }

  /** A booked transfer that FAILED: the destination never got the credit, the source got a refund entry. */
  private refund(op: MoneyOp): void {
    this.transit.failed += 1;
    if (op.credit !== undefined) {
      const to = this.wallets.get(op.credit);
      if (to) {
        to.balance -= op.amountMinor;
        to.entries -= 1;
      }
    }
    if (op.debit !== undefined) this.move(op.debit, op.amountMinor);
    this.totals.transferred -= op.amountMinor;
  }
}

export function codeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { code?: unknown };
    return typeof parsed.code === "string" ? parsed.code : "-";
  } catch {
    return "-";
  }
}

function transferIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { transferId?: unknown };
    return typeof parsed.transferId === "string" ? parsed.transferId : undefined;
  } catch {
    return undefined;
  }
}
