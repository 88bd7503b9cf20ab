import type { Logger } from "pino";
import {
  buildCheckpoint,
  type Checkpoint,
  type CheckpointSigner,
  HeadsDigest,
  sortHeads,
  type WalletHead,
} from "../domain/checkpoint.js";
import { isOwned } from "../domain/ownership.js";
import type { AuditStore } from "./ledger-store.js";

export interface CheckpointJobOptions {
  cellId: string;
  signer: CheckpointSigner;
  /** A checkpoint is due when the latest is at least this old. */
  intervalMs: number;
  newId(): string;
  /** How often a replica looks whether a checkpoint is due (default: a tenth of the interval, 1 s..60 s). */
  pollMs?: number;
  now?: () => number;
}

export type CheckpointRun =
  | { outcome: "created"; checkpoint: Checkpoint }
  | { outcome: "not-due"; latest: Checkpoint }
  /** Another replica appended this sequence first: its checkpoint stands, ours is discarded. */
  | { outcome: "lost"; sequence: number };

/**
 * The snapshot job of a cell. Every replica runs it; the conditional append of
 * checkpoint n+1 admits exactly one writer per sequence, so a cell gets one
 * checkpoint per interval however many replicas race (a loser's snapshot rows
 * are never named by a checkpoint and stay inert).
 *
 * A snapshot is "fuzzy": wallets are read one page after another while the
 * cell serves traffic, so each head is a true state of its wallet, but not all
 * at the same instant. That is enough to anchor every chain.
 */
export class CheckpointJob {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly store: AuditStore,
    private readonly options: CheckpointJobOptions,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    const poll = this.options.pollMs ?? Math.min(60_000, Math.max(1000, Math.floor(this.options.intervalMs / 10)));
    this.timer = setInterval(() => {
      if (this.running) return;
      void this.runOnce().catch((error) => this.logger?.warn({ err: String(error) }, "checkpoint pass failed"));
    }, poll);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(): Promise<CheckpointRun> {
    this.running = true;
    try {
      const now = this.options.now ?? Date.now;
      const latest = await this.store.latestCheckpoint();
      if (latest && now() - latest.createdAt < this.options.intervalMs) return { outcome: "not-due", latest };
      const heads: WalletHead[] = [];
      for await (const w of this.store.streamWallets()) {
        // A checkpoint signs the wallets this cell owns: a copy another cell owns is signed there.
        if (!isOwned(w.ownership.state)) continue;
        heads.push({
          walletId: w.walletId,
          currency: w.currency,
          balance: w.balance,
          version: w.version,
          headHash: w.headHash,
        });
      }
      const digest = new HeadsDigest();
      for (const head of sortHeads(heads)) digest.add(head);
      const snapshotId = this.options.newId();
      await this.store.putSnapshotHeads(snapshotId, heads);
      const checkpoint = buildCheckpoint(
        { cellId: this.options.cellId, previous: latest, snapshotId, heads: digest, now: now() },
        this.options.signer,
      );
      if (!(await this.store.appendCheckpoint(checkpoint))) return { outcome: "lost", sequence: checkpoint.sequence };
      this.logger?.info(
        { checkpoint: checkpoint.sequence, wallets: checkpoint.wallets, entries: checkpoint.entries },
        "checkpoint created",
      );
      return { outcome: "created", checkpoint };
    } finally {
      this.running = false;
    }
  }
}
