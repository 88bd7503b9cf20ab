import type { Logger } from "pino";
import type { CellDeps } from "./operation-context.js";
import { creditRequestFor, settleTransfer } from "./settle-transfer.js";
import type { TransferCreditor } from "./transfer-creditor.js";

export interface WorkerOptions {
  intervalMs: number;
  /** Leave young transfers to the request that created them. */
  minAgeMs: number;
  batch: number;
}

/**
 * Finishes outgoing cross-cell transfers left PENDING by a timeout, a crash or
 * an outage of the other cell. Every replica runs one: credits are idempotent by
 * transfer id and settling is conditional on PENDING, so concurrent workers can
 * only repeat a question, never an effect.
 */
export class PendingTransferWorker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly deps: CellDeps,
    private readonly creditor: TransferCreditor,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running)
        void this.runOnce().catch((error) => this.logger.warn({ err: String(error) }, "worker pass failed"));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; returns how many transfers it settled. */
  async runOnce(): Promise<number> {
    this.running = true;
    try {
      const due = await this.deps.store.listPendingTransfers(Date.now() - this.options.minAgeMs, this.options.batch);
      let settled = 0;
      for (const transfer of due) {
        const requestId = `worker-${transfer.transferId}`;
        const answer = await this.creditor.credit(creditRequestFor(this.deps, transfer), requestId);
        if (answer.kind === "unavailable") continue;
        const result = await settleTransfer(this.deps, transfer, answer, { requestId });
        if (result.settledNow) {
          settled += 1;
          this.logger.info(
            { transferId: transfer.transferId, status: result.transfer?.status, requestId },
            "pending transfer settled",
          );
        }
      }
      return settled;
    } finally {
      this.running = false;
    }
  }
}
