import type { AuditStore } from "../../application/ledger-store.js";
import { type Checkpoint, checkpointFromJson, checkpointToJson, type WalletHead } from "../../domain/checkpoint.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { entryFromRow, headFromRow, transferFromRow, walletFromRow } from "./rows.js";
import { type Row, SqlitePart } from "./sqlite-handle.js";

/** Audit on SQLite: whole-cell streams in keyset pages, snapshots and checkpoints. */
export class SqliteAuditStore extends SqlitePart implements AuditStore {
  async *streamEntries(walletId: string, afterSequence = 0): AsyncIterable<LedgerEntry> {
    let after = afterSequence;
    for (;;) {
      const rows = this.stmt.ascending.all(walletId, after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const entry = entryFromRow(row);
        after = entry.sequence;
        yield entry;
      }
    }
  }

  async *streamWallets(): AsyncIterable<Wallet> {
    let after = "";
    for (;;) {
      const rows = this.stmt.walletsAfter.all(after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const wallet = walletFromRow(row);
        after = wallet.walletId;
        yield wallet;
      }
    }
  }

  async *streamTransfers(): AsyncIterable<Transfer> {
    let after = "";
    for (;;) {
      const rows = this.stmt.transfersAfter.all(after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const transfer = transferFromRow(row);
        after = transfer.transferId;
        yield transfer;
      }
    }
  }

  async putSnapshotHeads(snapshotId: string, heads: readonly WalletHead[]): Promise<void> {
    for (let i = 0; i < heads.length; i += 1000) {
      const chunk = heads.slice(i, i + 1000);
      this.db
        .transaction(() => {
          for (const h of chunk) {
            this.stmt.insertHead.run(snapshotId, h.walletId, h.currency, h.balance, h.version, h.headHash);
          }
        })
        .immediate();
      await new Promise((r) => setImmediate(r));
    }
  }

  async *streamSnapshotHeads(snapshotId: string): AsyncIterable<WalletHead> {
    let after = "";
    for (;;) {
      const rows = this.stmt.headsAfter.all(snapshotId, after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const head = headFromRow(row);
        after = head.walletId;
        yield head;
      }
    }
  }

  async appendCheckpoint(checkpoint: Checkpoint): Promise<boolean> {
    return this.stmt.insertCheckpoint.run(checkpoint.sequence, checkpointToJson(checkpoint)).changes === 1;
  }

  async *streamCheckpoints(): AsyncIterable<Checkpoint> {
    let after = 0;
    for (;;) {
      const rows = this.stmt.checkpointsAfter.all(after, 100) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const checkpoint = checkpointFromJson(String(row.body));
        after = checkpoint.sequence;
        yield checkpoint;
      }
    }
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = this.stmt.latestCheckpoint.get() as Row | undefined;
    return row ? checkpointFromJson(String(row.body)) : undefined;
  }

  async getCheckpoint(sequence: number): Promise<Checkpoint | undefined> {
    const row = this.stmt.checkpoint.get(sequence) as Row | undefined;
    return row ? checkpointFromJson(String(row.body)) : undefined;
  }
}
