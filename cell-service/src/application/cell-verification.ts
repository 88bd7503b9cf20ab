import type { KeyObject } from "node:crypto";
import { type Checkpoint, checkCheckpoint, HeadsDigest, type WalletHead } from "../domain/checkpoint.js";
import { isOwned } from "../domain/ownership.js";
import type { Wallet } from "../domain/wallet.js";
import { type Anchor, type WalletVerification, WalletVerifier } from "../domain/wallet-verification.js";
import type { AuditStore, MoneyPathStore } from "./ledger-store.js";

/** Verifies one wallet: streams its entries, re-reading the row only when entries outran it. */
export async function verifyWallet(
  store: AuditStore & Pick<MoneyPathStore, "getWallet">,
  wallet: Wallet,
  anchor?: Anchor,
): Promise<WalletVerification> {
  const verifier = new WalletVerifier(wallet, anchor);
  for await (const entry of store.streamEntries(wallet.walletId)) verifier.add(entry);
  return verifier.finish(verifier.needsFreshRow() ? await store.getWallet(wallet.walletId) : undefined);
}

export interface CheckpointVerification {
  count: number;
  latestSequence: number | null;
  /** The latest checkpoint verified (signature, hash, link, heads digest) and anchored every wallet's chain. */
  anchored: boolean;
  valid: boolean;
  problems: { sequence: number; reason: string }[];
}

export interface CellVerificationReport {
  cellId: string;
  valid: boolean;
  checkpoints: CheckpointVerification;
  /** Wallets this cell owns (active or frozen) and their entries: the cell's totals. */
  wallets: number;
  entries: number;
  /** Copies another cell owns (moved away, importing, abandoned imports): verified too, for audit, not counted above. */
  migrationCopies: number;
  /** Wallets that failed, each with its first invalid sequence (at most `maxReported`). */
  invalidWallets: WalletVerification[];
  /** All failed wallets, including those beyond the reported list. */
  invalidCount: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export interface VerifyCellOptions {
  /** Wallets verified at the same time (each is one stream of entries). */
  concurrency?: number;
  maxReported?: number;
  now?: () => number;
  /** Public keys (by keyId) whose checkpoint signatures are trusted. */
  trustedKeys?: ReadonlyMap<string, KeyObject>;
}

/**
 * Every checkpoint: hash, link to its predecessor, signature by a trusted key;
 * the latest one's snapshot rows against its signed digest. Returns the anchors
 * (the latest checkpoint's heads) when the latest checkpoint is sound.
 */
async function verifyCheckpoints(
  store: AuditStore & Pick<MoneyPathStore, "getWallet">,
  cellId: string,
  trusted: ReadonlyMap<string, KeyObject>,
): Promise<{ report: CheckpointVerification; anchors: Map<string, WalletHead> | undefined; latest?: Checkpoint }> {
  const problems: { sequence: number; reason: string }[] = [];
  let previous: Checkpoint | undefined;
  let count = 0;
  let latestSound = false;
  for await (const checkpoint of store.streamCheckpoints()) {
    count += 1;
    const problem = checkCheckpoint(checkpoint, previous, trusted, cellId);
    if (problem !== undefined && problems.length < 1000)
      problems.push({ sequence: checkpoint.sequence, reason: problem });
    latestSound = problem === undefined;
    previous = checkpoint;
  }
  let anchors: Map<string, WalletHead> | undefined;
  if (previous && latestSound) {
    // O(wallets) memory: the signed heads every chain must pass through.
    const digest = new HeadsDigest();
    const heads = new Map<string, WalletHead>();
    let malformed: string | undefined;
    for await (const head of store.streamSnapshotHeads(previous.snapshotId)) {
      try {
        digest.add(head);
      } catch (error) {
        malformed = (error as Error).message;
        break;
      }
      heads.set(head.walletId, head);
    }
    const summary = digest.result();
    const matches =
      malformed === undefined &&
      summary.headsDigest === previous.headsDigest &&
      summary.wallets === previous.wallets &&
      summary.entries === previous.entries &&
      JSON.stringify(summary.totals) === JSON.stringify(previous.totals);
    if (matches) anchors = heads;
    else problems.push({ sequence: previous.sequence, reason: "snapshot rows do not match the signed heads digest" });
  }
  return {
    report: {
      count,
      latestSequence: previous?.sequence ?? null,
      anchored: anchors !== undefined,
      valid: problems.length === 0,
      problems,
    },
    anchors,
    ...(previous ? { latest: previous } : {}),
  };
}

/**
 * Verifies a whole cell: every wallet's chain recomputed, its balance the running
 * sum, sequences gap-free from 1, and the wallet row's balance, version and head
 * consistent with its chain. Streams wallets and entries: memory is bounded by
 * `concurrency` pages, not by the size of the cell.
 */
export async function verifyCell(
  store: AuditStore & Pick<MoneyPathStore, "getWallet">,
  cellId: string,
  options: VerifyCellOptions = {},
): Promise<CellVerificationReport> {
  const now = options.now ?? Date.now;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const maxReported = options.maxReported ?? 1000;
  const started = now();
  const checkpoints = await verifyCheckpoints(store, cellId, options.trustedKeys ?? new Map());
  const anchors = checkpoints.anchors;
  const anchorOf = (walletId: string): Anchor | undefined => {
    const head = anchors?.get(walletId);
    return head && checkpoints.latest ? { head, checkpoint: checkpoints.latest.sequence } : undefined;
  };
  let wallets = 0;
  let entries = 0;
  let migrationCopies = 0;
  let invalidCount = 0;
  const invalid: WalletVerification[] = [];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const check = async (wallet: Wallet) => {
    const anchor = anchorOf(wallet.walletId);
    anchors?.delete(wallet.walletId);
    const result = await verifyWallet(store, wallet, anchor);
    if (isOwned(wallet.ownership.state)) {
      wallets += 1;
      entries += result.entries;
    } else {
      migrationCopies += 1;
    }
    if (!result.valid) {
      invalidCount += 1;
      if (invalid.length < maxReported) invalid.push(result);
    }
  };
  for await (const wallet of store.streamWallets()) {
    if (failure) break;
    const task: Promise<void> = check(wallet)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  // A store failure is not a verdict: the caller must not read it as "valid" or "tampered".
  if (failure) throw failure.error;
  // Wallets a sound checkpoint signed that the cell no longer has: deleted behind the service's back.
  for (const head of anchors?.values() ?? []) {
    invalidCount += 1;
    if (invalid.length < maxReported) {
      invalid.push({
        walletId: head.walletId,
        valid: false,
        entries: 0,
        headHash: head.headHash,
        firstInvalidSequence: Math.max(1, head.version),
        reason: `wallet signed by checkpoint ${checkpoints.latest?.sequence} is missing from the cell`,
      });
    }
  }
  invalid.sort((a, b) => (a.walletId < b.walletId ? -1 : a.walletId > b.walletId ? 1 : 0));
  const finished = now();
  return {
    cellId,
    valid: invalidCount === 0 && checkpoints.report.valid,
    checkpoints: checkpoints.report,
    wallets,
    entries,
    migrationCopies,
    invalidWallets: invalid,
    invalidCount,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
  };
}
