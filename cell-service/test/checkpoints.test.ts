/**
 * Issue 5: signed checkpoints on both adapters — the job runs once across
 * replicas, checkpoints chain and verify, a forged checkpoint is caught, and a
 * chain rewritten consistently (invisible to chain verification alone) is
 * caught by the signed head it no longer passes through.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { entryHash } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { postEntry, seedWallet } from "../../test-support/ledger-fixtures.js";
import { ADAPTERS, dynamoClient, openTestStore, type TestStore } from "../../test-support/stores.js";
import { openTamperer } from "../../test-support/tamper.js";
import { token } from "../../test-support/tokens.js";
import { createDynamoDbLedgerStore } from "../src/adapters/dynamodb/dynamodb-ledger-store.js";
import { SqliteLedgerStore } from "../src/adapters/sqlite/sqlite-ledger-store.js";
import { verifyCell, verifyWallet } from "../src/application/cell-verification.js";
import { CheckpointJob, type CheckpointRun } from "../src/application/checkpoint-job.js";
import type { LedgerStore } from "../src/application/ledger-store.js";
import {
  buildCheckpoint,
  type Checkpoint,
  checkpointHash,
  DEVELOPMENT_CHECKPOINT_KEY,
  HeadsDigest,
  keyIdOf,
  signerFromPkcs8,
} from "../src/domain/checkpoint.js";
import { type LedgerEntry, toTransactionView } from "../src/domain/ledger-entry.js";
import type { Wallet } from "../src/domain/wallet.js";

const motoEndpoint = inject("motoEndpoint");
const signer = signerFromPkcs8(DEVELOPMENT_CHECKPOINT_KEY);
const trustedKeys = new Map<string, KeyObject>([[signer.keyId, signer.publicKey]]);
let ids = 0;
const newId = () => `SNAP${Date.now().toString(36)}${(ids++).toString(36)}`.toUpperCase();

function job(store: LedgerStore, cellId: string, intervalMs = 3_600_000): CheckpointJob {
  return new CheckpointJob(store, { cellId, signer, intervalMs, newId });
}

/** Another replica of the same cell: its own connection to the same store. */
function replica(testStore: TestStore): LedgerStore {
  const path = testStore.env.WALLET_SQLITE_PATH;
  if (path !== undefined) return new SqliteLedgerStore({ path });
  return createDynamoDbLedgerStore({ cellId: testStore.cellId, client: dynamoClient(motoEndpoint) });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** What an attacker with the store (but not the signing key) does: alter entry k, re-hash everything after. */
function rewriteConsistently(wallet: Wallet, entries: LedgerEntry[], k: number, delta: bigint) {
  const rewritten: LedgerEntry[] = [];
  let prev = entries[0]?.prevHash ?? "";
  let shift = 0n;
  for (const original of entries) {
    const entry = { ...original, prevHash: prev };
    if (entry.sequence === k) {
      entry.amount += delta;
      shift = entry.type === "WITHDRAWAL" || entry.type === "TRANSFER_OUT" ? -delta : delta;
    }
    entry.balanceAfter += shift;
    const { hash: _h, ...fields } = toTransactionView({ ...entry, hash: "" });
    entry.hash = entryHash(fields);
    prev = entry.hash;
    rewritten.push(entry);
  }
  const last = rewritten.at(-1) as LedgerEntry;
  return { entries: rewritten, wallet: { ...wallet, balance: last.balanceAfter, headHash: last.hash } };
}

describe.each(ADAPTERS)("checkpoints on %s", (adapter) => {
  let testStore: TestStore;
  let store: LedgerStore;
  const others: LedgerStore[] = [];

  beforeAll(async () => {
    testStore = await openTestStore(adapter, motoEndpoint);
    store = testStore.store;
  });
  afterAll(async () => {
    for (const s of others) await s.close();
    await store.close();
  });

  it("the job runs once across replicas: one checkpoint per interval, however many race", async () => {
    const a = await seedWallet(store, [1000n, 250n]);
    const b = await seedWallet(store, [70n]);
    others.push(replica(testStore), replica(testStore));
    const replicas = [store, ...others];
    const runs: CheckpointRun[] = await Promise.all(replicas.map((s) => job(s, testStore.cellId).runOnce()));
    expect(runs.filter((r) => r.outcome === "created")).toHaveLength(1);
    expect(runs.every((r) => ["created", "lost", "not-due"].includes(r.outcome))).toBe(true);
    const stored = await collect(store.streamCheckpoints());
    expect(stored).toHaveLength(1);
    const first = stored[0] as Checkpoint;
    expect(first).toMatchObject({ sequence: 1, wallets: 2, entries: 3, totals: { USD: "1320" } });
    expect(first.previousHash).toBe("0".repeat(64));
    // Not due again within the interval, on any replica.
    for (const s of replicas) expect((await job(s, testStore.cellId).runOnce()).outcome).toBe("not-due");
    // The snapshot holds every wallet's head, in walletId order.
    const heads = await collect(store.streamSnapshotHeads(first.snapshotId));
    expect(heads.map((h) => h.walletId)).toEqual([a.walletId, b.walletId].sort());
    expect(heads.find((h) => h.walletId === a.walletId)).toMatchObject({
      balance: 1250n,
      version: 2,
      headHash: a.headHash,
    });

    // Once due (interval 0), the next one chains to the first.
    await postEntry(store, b.walletId, 5n);
    const next = await job(others[0] as LedgerStore, testStore.cellId, 0).runOnce();
    expect(next.outcome).toBe("created");
    const latest = await store.latestCheckpoint();
    expect(latest).toMatchObject({ sequence: 2, previousHash: first.hash, entries: 4, totals: { USD: "1325" } });
    expect(await store.getCheckpoint(1)).toEqual(first);

    const report = await verifyCell(store, testStore.cellId, { trustedKeys });
    expect(report.checkpoints).toEqual({ count: 2, latestSequence: 2, anchored: true, valid: true, problems: [] });
    expect(report.valid).toBe(true);
    // Without the trusted public key, nothing a checkpoint says is believed.
    const untrusted = await verifyCell(store, testStore.cellId);
    expect(untrusted.valid).toBe(false);
    expect(untrusted.checkpoints.problems[0]?.reason).toMatch(/untrusted key/);
  });

  it("a consistent rewrite of a whole chain passes chain verification but not the signed checkpoint", async () => {
    const victim = await seedWallet(store, [500n, 300n, -100n, 40n]);
    const bystander = await seedWallet(store, [10n]);
    const made = await job(store, testStore.cellId, 0).runOnce();
    expect(made.outcome).toBe("created");
    await postEntry(store, victim.walletId, 1n); // a legitimate entry after the checkpoint
    const current = (await store.getWallet(victim.walletId)) as Wallet;
    const rewrite = rewriteConsistently(current, await collect(store.streamEntries(victim.walletId)), 2, 1_000n);
    const attacker = openTamperer(testStore, motoEndpoint);
    await attacker.rewriteWallet(rewrite.wallet, rewrite.entries);
    await attacker.close();

    // The chain alone is perfectly consistent...
    const alone = await verifyWallet(store, (await store.getWallet(victim.walletId)) as Wallet);
    expect(alone.valid).toBe(true);
    // ...but it no longer passes through the head checkpoint n signed (version 4).
    const report = await verifyCell(store, testStore.cellId, { trustedKeys });
    expect(report.checkpoints.valid).toBe(true);
    expect(report.valid).toBe(false);
    expect(report.invalidWallets).toEqual([
      expect.objectContaining({
        walletId: victim.walletId,
        firstInvalidSequence: 4,
        reason: expect.stringMatching(/differs from the head signed by checkpoint \d+/),
      }),
    ]);
    expect(report.invalidWallets.some((w) => w.walletId === bystander.walletId)).toBe(false);
  });

  it("a wallet deleted with all its entries is reported as missing from the signed checkpoint", async () => {
    const fresh = await openTestStore(adapter, motoEndpoint);
    try {
      const gone = await seedWallet(fresh.store, [10n, 20n, 30n]);
      await seedWallet(fresh.store, [5n]);
      expect((await job(fresh.store, fresh.cellId).runOnce()).outcome).toBe("created");
      const attacker = openTamperer(fresh, motoEndpoint);
      await attacker.deleteWallet(gone.walletId, 3);
      await attacker.close();
      const report = await verifyCell(fresh.store, fresh.cellId, { trustedKeys });
      expect(report.valid).toBe(false);
      expect(report.invalidWallets).toEqual([
        expect.objectContaining({
          walletId: gone.walletId,
          firstInvalidSequence: 3,
          reason: expect.stringMatching(/missing/),
        }),
      ]);
    } finally {
      await fresh.store.close();
    }
  });

  it("forged checkpoints are detected: edited, re-signed with another key, or spliced with a trusted keyId", async () => {
    const fresh = await openTestStore(adapter, motoEndpoint);
    try {
      await seedWallet(fresh.store, [100n, 200n]);
      for (let i = 0; i < 3; i++) expect((await job(fresh.store, fresh.cellId, 0).runOnce()).outcome).toBe("created");
      expect((await verifyCell(fresh.store, fresh.cellId, { trustedKeys })).valid).toBe(true);
      const [c1, c2, c3] = (await collect(fresh.store.streamCheckpoints())) as [Checkpoint, Checkpoint, Checkpoint];
      const attacker = openTamperer(fresh, motoEndpoint);
      const cases: [Checkpoint, RegExp][] = [];
      // 1. Edited in place: the totals no longer match the hash.
      cases.push([{ ...c1, totals: { USD: "999999" } }, /hash does not match/]);
      // 2. Re-hashed and re-signed with the attacker's own key.
      const own = generateKeyPairSync("ed25519");
      const mallory = { privateKey: own.privateKey, publicKey: own.publicKey, keyId: keyIdOf(own.publicKey) };
      const digest = new HeadsDigest();
      const resigned = buildCheckpoint(
        { cellId: fresh.cellId, previous: c1, snapshotId: c2.snapshotId, heads: digest, now: c2.createdAt },
        mallory,
      );
      cases.push([resigned, /untrusted key/]);
      // 3. Claims the trusted keyId, signature by another key.
      // (linked to the forged checkpoint 2, so the signature is the first thing that fails)
      const body = { ...c3, previousHash: resigned.hash, keyId: signer.keyId, wallets: c3.wallets + 1 };
      const spliced = { ...body, hash: checkpointHash(body), signature: resigned.signature };
      cases.push([spliced, /signature does not verify/]);
      for (const [forged] of cases) await attacker.putCheckpoint(forged);
      await attacker.close();
      const report = await verifyCell(fresh.store, fresh.cellId, { trustedKeys });
      expect(report.valid).toBe(false);
      expect(report.checkpoints.valid).toBe(false);
      expect(report.checkpoints.anchored).toBe(false);
      for (const [forged, reason] of cases) {
        const found = report.checkpoints.problems.find((p) => p.sequence === forged.sequence);
        expect(found?.reason, `checkpoint ${forged.sequence}`).toMatch(reason);
      }
    } finally {
      await fresh.store.close();
    }
  });

  it("a deleted checkpoint and edited snapshot rows are detected; no anchor is trusted then", async () => {
    const fresh = await openTestStore(adapter, motoEndpoint);
    try {
      const w = await seedWallet(fresh.store, [100n, 200n]);
      for (let i = 0; i < 3; i++) expect((await job(fresh.store, fresh.cellId, 0).runOnce()).outcome).toBe("created");
      const latest = (await fresh.store.latestCheckpoint()) as Checkpoint;
      const attacker = openTamperer(fresh, motoEndpoint);
      await attacker.changeSnapshotBalance(latest.snapshotId, w.walletId, 1n);
      await attacker.deleteCheckpoint(2);
      await attacker.close();
      const report = await verifyCell(fresh.store, fresh.cellId, { trustedKeys });
      expect(report.valid).toBe(false);
      expect(report.checkpoints).toMatchObject({ count: 2, latestSequence: 3, anchored: false, valid: false });
      expect(report.checkpoints.problems).toEqual([{ sequence: 3, reason: "expected checkpoint 2, found 3" }]);
      // The latest checkpoint is unsound (its predecessor is gone): its edited rows are not used as anchors.
      expect(report.invalidWallets).toEqual([]);
    } finally {
      await fresh.store.close();
    }
    const intact = await openTestStore(adapter, motoEndpoint);
    try {
      const w = await seedWallet(intact.store, [100n]);
      expect((await job(intact.store, intact.cellId).runOnce()).outcome).toBe("created");
      const latest = (await intact.store.latestCheckpoint()) as Checkpoint;
      const attacker = openTamperer(intact, motoEndpoint);
      await attacker.changeSnapshotBalance(latest.snapshotId, w.walletId, 1n);
      await attacker.close();
      const report = await verifyCell(intact.store, intact.cellId, { trustedKeys });
      expect(report.valid).toBe(false);
      expect(report.checkpoints.anchored).toBe(false);
      expect(report.checkpoints.problems).toEqual([
        { sequence: 1, reason: "snapshot rows do not match the signed heads digest" },
      ]);
    } finally {
      await intact.store.close();
    }
  });

  it("checkpoints are listed and exported over HTTP for wallet:auditor only", async () => {
    const cell = await startInProcessCell(store, { CELL_ID: testStore.cellId });
    try {
      const auditor = await token("auditor-2", "wallet:auditor");
      const list = await http(cell.url, "GET", "/api/v1/cell/checkpoints", { token: auditor });
      expect(list.status).toBe(200);
      const items = list.body.items as Checkpoint[];
      expect(items.map((c) => c.sequence)).toEqual(items.map((_, i) => i + 1));
      const latest = items.at(-1) as Checkpoint;
      const exported = await http(cell.url, "GET", `/api/v1/cell/checkpoints/${latest.sequence}`, { token: auditor });
      expect(exported.status).toBe(200);
      expect(exported.body.checkpoint).toEqual(latest);
      // Offline check of the export: the heads recompute the signed digest.
      const digest = new HeadsDigest();
      for (const h of exported.body.heads) digest.add({ ...h, balance: BigInt(h.balance) });
      expect(digest.result().headsDigest).toBe(latest.headsDigest);
      expect(exported.body.publicKey).toEqual(expect.any(String));
      expect((await http(cell.url, "GET", "/api/v1/cell/checkpoints/999999", { token: auditor })).status).toBe(404);
      const bad = await http(cell.url, "GET", "/api/v1/cell/checkpoints/abc", { token: auditor });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ pointer: "path/sequence" })]);
      const user = await token("u", "wallet");
      expect((await http(cell.url, "GET", "/api/v1/cell/checkpoints", { token: user })).status).toBe(403);
      expect((await http(cell.url, "GET", "/api/v1/cell/checkpoints")).status).toBe(401);
    } finally {
      await cell.close();
    }
  });
});
