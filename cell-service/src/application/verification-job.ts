import type { KeyObject } from "node:crypto";
import type { Logger } from "pino";
import { type CellVerificationReport, verifyCell } from "./cell-verification.js";
import type { LedgerStore } from "./ledger-store.js";

export interface VerificationJobOptions {
  cellId: string;
  intervalMs: number;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** Called with every report (metrics). */
  onReport?(report: CellVerificationReport): void;
}

/**
 * Verifies the whole cell periodically (read-only, so each replica may run it;
 * set VERIFY_INTERVAL_MS on one replica per cell to spare the store). Findings
 * go to the log (error level, one line per invalid wallet, at most 100) and to
 * metrics for alerting.
 */
export class VerificationJob {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly store: LedgerStore,
    private readonly options: VerificationJobOptions,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      void this.runOnce().catch((error) => this.logger?.warn({ err: String(error) }, "verification pass failed"));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(): Promise<CellVerificationReport> {
    this.running = true;
    try {
      const report = await verifyCell(this.store, this.options.cellId, { trustedKeys: this.options.trustedKeys });
      this.options.onReport?.(report);
      const summary = {
        wallets: report.wallets,
        entries: report.entries,
        invalidCount: report.invalidCount,
        checkpoints: report.checkpoints.count,
        checkpointProblems: report.checkpoints.problems.length,
        durationMs: report.durationMs,
      };
      if (report.valid) this.logger?.info(summary, "cell verified");
      else {
        this.logger?.error(summary, "cell verification found tampering or inconsistency");
        for (const w of report.invalidWallets.slice(0, 100)) {
          this.logger?.error(
            { walletId: w.walletId, firstInvalidSequence: w.firstInvalidSequence, reason: w.reason },
            "invalid wallet",
          );
        }
        for (const p of report.checkpoints.problems.slice(0, 100)) {
          this.logger?.error({ checkpoint: p.sequence, reason: p.reason }, "invalid checkpoint");
        }
      }
      return report;
    } finally {
      this.running = false;
    }
  }
}
