import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADAPTERS, openTestStore } from "../../test-support/stores.js";
import type { IdempotencyRecord, LedgerStore } from "../src/application/ledger-store.js";
import { openWallet } from "../src/domain/wallet.js";

/**
 * The store side of "a stored answer never changes once a client could have seen it", on both adapters: a
 * provisional record is replaced at most once, by its writer's final answer or made final as it stands by a
 * reader, whichever comes first; a final record is never replaced, and a commit that tries fails as a whole.
 */
let n = 0;
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(n++).toString(36)}`.toUpperCase();

function provisional(scopeKey: string, walletId: string): IdempotencyRecord {
  const now = Date.now();
  return {
    scopeKey,
    fingerprint: "f",
    status: 202,
    contentType: "application/json",
    body: '{"status":"PENDING"}',
    createdAt: now,
    expiresAt: now + 86_400_000,
    walletId,
    provisional: true,
  };
}

describe.each(ADAPTERS)("idempotency record finality on %s", (adapter) => {
  let store: LedgerStore;
  let walletId: string;

  beforeAll(async () => {
    store = (await openTestStore(adapter, inject("motoEndpoint"))).store;
    const wallet = openWallet(unique("W"), unique("U"), "USD", Date.now());
    walletId = wallet.walletId;
    const created = await store.commit({
      walletIds: [],
      decide: () => ({ changes: { newWallet: wallet }, result: 0 }),
    });
    expect(created.ok).toBe(true);
  });
  afterAll(async () => {
    await store.close();
  });

  const write = (record: IdempotencyRecord) =>
    store.commit({ walletIds: [walletId], decide: () => ({ changes: { idempotency: record }, result: 0 }) });
  /** The writer's settling commit: a wallet write plus the final answer, in one atomic write. */
  const settle = (record: IdempotencyRecord) =>
    store.commit({
      walletIds: [walletId],
      decide: ({ wallets }) => {
        const wallet = wallets.get(walletId);
        if (!wallet) throw new Error("wallet missing");
        return {
          changes: {
            walletUpdates: [
              { wallet: { ...wallet, updatedAt: wallet.updatedAt + 1 }, expectedVersion: wallet.version },
            ],
            idempotencyUpdate: { record },
          },
          result: 0,
        };
      },
    });

  it("lets the writer replace its provisional answer once, atomically with its other writes", async () => {
    const key = unique("K");
    expect((await write(provisional(key, walletId))).ok).toBe(true);
    expect((await store.getIdempotency(key))?.provisional).toBe(true);
    const { provisional: _p, ...final } = {
      ...provisional(key, walletId),
      status: 201,
      body: '{"status":"COMPLETED"}',
    };
    expect(await settle(final)).toEqual({ ok: true, result: 0 });
    const stored = await store.getIdempotency(key);
    expect([stored?.status, stored?.body, stored?.provisional]).toEqual([201, '{"status":"COMPLETED"}', undefined]);
    // Final now: neither a reader nor a second settle changes it.
    expect(await store.finalizeIdempotency(key)).toBe(false);
    expect(await settle({ ...final, status: 422, body: "{}" })).toEqual({ ok: false, reason: "idempotency-final" });
    expect((await store.getIdempotency(key))?.status).toBe(201);
  });

  it("keeps the provisional answer as it stands once a reader made it final, and refuses the writer's change whole", async () => {
    const key = unique("K");
    expect((await write(provisional(key, walletId))).ok).toBe(true);
    const before = await store.getWallet(walletId);
    expect(await store.finalizeIdempotency(key)).toBe(true);
    expect(await store.finalizeIdempotency(key)).toBe(false);
    const { provisional: _p, ...final } = {
      ...provisional(key, walletId),
      status: 201,
      body: '{"status":"COMPLETED"}',
    };
    expect(await settle(final)).toEqual({ ok: false, reason: "idempotency-final" });
    const stored = await store.getIdempotency(key);
    expect([stored?.status, stored?.body, stored?.provisional]).toEqual([202, '{"status":"PENDING"}', undefined]);
    // Nothing of the refused commit was written.
    expect(await store.getWallet(walletId)).toEqual(before);
  });

  it("finalizes nothing that does not exist", async () => {
    expect(await store.finalizeIdempotency(unique("K"))).toBe(false);
  });
});
