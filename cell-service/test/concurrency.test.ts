/**
 * Money under concurrency, against real cell processes over real HTTP.
 *
 * 32+ clients run random deposits, withdrawals and transfers on a handful of
 * wallets, every request with an Idempotency-Key, and retry keys at random: right
 * after the answer, concurrently with the first attempt, and later. Afterwards the
 * ledger must account for exactly the acknowledged operations, once each, with
 * valid hash chains and no money created or lost. The same workload runs on one
 * process per adapter, and on three processes sharing one SQLite file (the AZ
 * replicas of one cell), where a retry may land on a different replica.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChainVerifier,
  entryHash,
  formatMinor,
  GENESIS_HASH,
  minorFromFormatted,
  type TransactionView,
} from "@cellwallet/contract";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { type AdapterName, openTestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";
import { SqliteLedgerStore } from "../src/adapters/sqlite/sqlite-ledger-store.js";
import type { LedgerStore } from "../src/application/ledger-store.js";

const motoEndpoint = inject("motoEndpoint");
const CURRENCY = "USD";
const toMinor = (amount: string) => minorFromFormatted(amount, CURRENCY);
const fmt = (minor: bigint) => formatMinor(minor, CURRENCY);
/** More than all the money that can ever be in the cell: always refused. */
const HUGE = 500_000_000n;

/** mulberry32: the workload's choices are reproducible from the seed printed in failures. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type OpKind = "deposit" | "withdraw" | "transfer";

interface Attempt {
  replica: number;
  status: number;
  text: string;
  replayed: boolean;
  code: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: API JSON
  body: any;
}

interface Op {
  key: string;
  kind: OpKind;
  token: string;
  path: string;
  /** Equal requests in different spellings: [0] as first sent, others reorder keys / pad numbers. */
  variants: string[];
  amount: bigint;
  walletId: string;
  toWalletId?: string;
  attempts: Attempt[];
  misuse: Attempt[];
  seeding: boolean;
}

interface WalletInfo {
  walletId: string;
  userId: string;
  token: string;
}

interface Scenario {
  name: string;
  adapter: AdapterName;
  replicas: number;
  clients: number;
  opsPerClient: number;
}

const SCENARIOS: Scenario[] = [
  { name: "sqlite, one cell process", adapter: "sqlite", replicas: 1, clients: 32, opsPerClient: 15 },
  { name: "dynamodb, one cell process", adapter: "dynamodb", replicas: 1, clients: 32, opsPerClient: 4 },
  {
    name: "sqlite, three replica processes sharing one file",
    adapter: "sqlite",
    replicas: 3,
    clients: 36,
    opsPerClient: 12,
  },
  {
    name: "dynamodb, three replica processes sharing the tables",
    adapter: "dynamodb",
    replicas: 3,
    clients: 32,
    opsPerClient: 3,
  },
];

const WALLETS = 5;
const SEED_AMOUNT = 300_00n;

const isFinal = (a: Attempt) => a.status === 201 || (a.status === 422 && a.code === "insufficient-funds");
const isTransient = (a: Attempt) =>
  (a.status === 409 && a.code === "idempotency-in-progress") || (a.status === 503 && a.code === "cell-unavailable");
const finalOf = (op: Op) => op.attempts.find(isFinal);
const acked = (op: Op) => finalOf(op)?.status === 201;

/** The request body, as text: several spellings of the same request (equal after parsing). */
function bodyVariants(fields: Record<string, string>, amount: bigint, asNumber: boolean): string[] {
  const text = fmt(amount);
  const literal = asNumber ? text.replace(/\.?0+$/, "") : JSON.stringify(text);
  const padded = asNumber && /^\d+\.\d$/.test(literal) ? `${literal}0` : literal;
  const members = Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return [
    `{${[...members, `"amount":${literal}`].join(",")}}`,
    `{"amount":${padded},${[...members].reverse().join(",")}}`,
    `{ ${[...members, `"amount": ${literal}`].join(", ")} }`,
  ];
}

/** Every page of GET /transactions, following nextCursor. */
async function listPages(base: string, tok: string, walletId: string, limit: number): Promise<TransactionView[][]> {
  const pages: TransactionView[][] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res = await http(base, "GET", `/api/v1/wallets/${walletId}/transactions?${query}`, { token: tok });
    if (res.status !== 200) throw new Error(`list transactions ${res.status}: ${res.text}`);
    pages.push(res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) break;
  }
  return pages;
}

describe.each(SCENARIOS)("$name: $clients clients x $opsPerClient ops with retried idempotency keys", (scenario) => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(rand() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  };
  const why = (what: string) => `${what} (scenario "${scenario.name}", seed ${seed})`;

  let store: LedgerStore;
  const cells: CellProcess[] = [];
  const wallets: WalletInfo[] = [];
  const ops: Op[] = [];
  const unexpected: string[] = [];
  const polled: { walletId: string; balance: bigint; version: number }[] = [];
  let operator: string;
  let elapsedMs = 0;
  // Final state, fetched once the workload is over.
  const finalWallets = new Map<string, { balance: bigint; version: number }>();
  const pages = new Map<string, TransactionView[][]>();
  const chains = new Map<string, TransactionView[]>();
  // biome-ignore lint/suspicious/noExplicitAny: API JSON
  const audits = new Map<string, any>();
  // biome-ignore lint/suspicious/noExplicitAny: API JSON
  const transfers = new Map<string, any>();

  const replicaUrl = (replica: number) => {
    const cell = cells[replica];
    if (!cell) throw new Error(`no replica ${replica}`);
    return cell.url;
  };
  const anyReplica = () => Math.floor(rand() * cells.length);

  async function attempt(op: Op, variant = 0, replica = anyReplica()): Promise<Attempt> {
    const res = await http(replicaUrl(replica), "POST", op.path, {
      token: op.token,
      idempotencyKey: op.key,
      body: op.variants[variant] ?? op.variants[0],
    });
    const a: Attempt = {
      replica,
      status: res.status,
      text: res.text,
      replayed: res.headers.get("idempotency-replayed") === "true",
      code: res.body?.code,
      body: res.body,
    };
    op.attempts.push(a);
    if (!isFinal(a) && !isTransient(a)) unexpected.push(`${op.kind} ${op.key}: ${a.status} ${a.text}`);
    return a;
  }

  /** Retries the same key (as a client would after 409/503) until the operation has a final answer. */
  async function settle(op: Op): Promise<void> {
    for (let i = 0; i < 300 && !finalOf(op); i++) {
      await sleep(2 + rand() * 10);
      await attempt(op, Math.floor(rand() * op.variants.length));
    }
    if (!finalOf(op)) unexpected.push(`${op.kind} ${op.key} never got a final answer`);
  }

  function newOp(kind: OpKind, seeding = false, oversized = false): Op {
    const source = pick(wallets);
    let amount = seeding ? SEED_AMOUNT : BigInt(1 + Math.floor(rand() * 10_000));
    if (oversized || (!seeding && kind !== "deposit" && rand() < 0.06)) amount = HUGE;
    const asNumber = !seeding && rand() < 0.25;
    const op: Op = {
      key: `k-${randomUUID()}`,
      kind,
      token: kind === "transfer" ? source.token : rand() < 0.5 ? operator : source.token,
      path: "",
      variants: [],
      amount,
      walletId: source.walletId,
      attempts: [],
      misuse: [],
      seeding,
    };
    if (kind === "transfer") {
      const others = wallets.filter((w) => w !== source);
      const target = pick(others);
      op.toWalletId = target.walletId;
      op.path = "/api/v1/wallets/transfer";
      op.variants = bodyVariants({ fromWalletId: source.walletId, toWalletId: target.walletId }, amount, asNumber);
    } else {
      op.path = `/api/v1/wallets/${source.walletId}/${kind}`;
      op.variants = bodyVariants({ reference: `ref-${op.key.slice(2, 10)}` }, amount, asNumber);
    }
    ops.push(op);
    return op;
  }

  /** Clients 0, 8, 16... start with an oversized withdrawal and reuse their first key for another request. */
  async function runClient(index: number): Promise<void> {
    const deferred: Op[] = [];
    for (let i = 0; i < scenario.opsPerClient; i++) {
      const marked = i === 0 && index % 8 === 0;
      const op = marked ? newOp("withdraw", false, true) : newOp(pick<OpKind>(["deposit", "withdraw", "transfer"]));
      const mode = rand();
      if (mode < 0.4) {
        await attempt(op);
      } else if (mode < 0.6) {
        // Immediate retries, in sequence (possibly to another replica).
        await attempt(op);
        await attempt(op, 1);
        if (rand() < 0.3) await attempt(op, 2);
      } else if (mode < 0.8) {
        // Retries racing the first attempt.
        const racers = [attempt(op), sleep(rand() * 3).then(() => attempt(op, 1))];
        if (rand() < 0.4) racers.push(attempt(op, 2));
        await Promise.all(racers);
      } else {
        await attempt(op);
        deferred.push(op);
      }
      await settle(op);
      // The same key with a different request must be refused, changing nothing.
      if (marked || rand() < 0.05) {
        const changed = op.variants[0]?.replace(/"amount":\s*"?[0-9.]+"?/, `"amount":"${fmt(op.amount + 1n)}"`);
        const res = await http(replicaUrl(anyReplica()), "POST", op.path, {
          token: op.token,
          idempotencyKey: op.key,
          body: changed,
        });
        op.misuse.push({
          replica: -1,
          status: res.status,
          text: res.text,
          replayed: false,
          code: res.body?.code,
          body: res.body,
        });
      }
      if (deferred.length > 0 && rand() < 0.35) {
        const [later] = deferred.splice(Math.floor(rand() * deferred.length), 1);
        if (later) await attempt(later, Math.floor(rand() * later.variants.length));
      }
    }
    for (const later of deferred) await attempt(later, Math.floor(rand() * later.variants.length));
  }

  beforeAll(async () => {
    const opened = await openTestStore(scenario.adapter, motoEndpoint);
    store = opened.store;
    const env = { ...opened.env, CELL_ID: opened.cellId };
    for (let r = 0; r < scenario.replicas; r++) {
      cells.push(await startCellProcess({ ...env, AZ: `az-${r + 1}` }));
    }
    operator = await token("ops-concurrency", "wallet:operator");
    for (let i = 0; i < WALLETS; i++) {
      const userId = `cc-${i}-${randomUUID().slice(0, 8)}`;
      const tok = await token(userId, "wallet");
      const res = await http(replicaUrl(i % cells.length), "POST", "/api/v1/wallets", {
        token: tok,
        body: { userId },
        idempotencyKey: `create-${userId}`,
      });
      if (res.status !== 201) throw new Error(`create wallet: ${res.status} ${res.text}`);
      wallets.push({ walletId: res.body.walletId, userId, token: tok });
    }
    // Seed every wallet with one operator deposit.
    for (const wallet of wallets) {
      const op = newOp("deposit", true);
      op.walletId = wallet.walletId;
      op.token = operator;
      op.path = `/api/v1/wallets/${wallet.walletId}/deposit`;
      op.variants = bodyVariants({ reference: "seed" }, SEED_AMOUNT, false);
      await attempt(op);
      await settle(op);
    }

    // A reader polls the balances while the clients run.
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const wallet of wallets) {
          const res = await http(replicaUrl(anyReplica()), "GET", `/api/v1/wallets/${wallet.walletId}`, {
            token: operator,
          });
          if (res.status !== 200) unexpected.push(`poll ${res.status} ${res.text}`);
          else
            polled.push({ walletId: wallet.walletId, balance: toMinor(res.body.balance), version: res.body.version });
        }
        await sleep(5);
      }
    })();
    const started = performance.now();
    await Promise.all(Array.from({ length: scenario.clients }, (_, index) => runClient(index)));
    elapsedMs = performance.now() - started;
    polling = false;
    await poller;

    // The final state, read through the API like any client would.
    await Promise.all(
      wallets.map(async (wallet) => {
        const base = replicaUrl(anyReplica());
        const w = await http(base, "GET", `/api/v1/wallets/${wallet.walletId}`, { token: wallet.token });
        finalWallets.set(wallet.walletId, { balance: toMinor(w.body.balance), version: w.body.version });
        const listed = await listPages(base, wallet.token, wallet.walletId, 37);
        pages.set(wallet.walletId, listed);
        chains.set(
          wallet.walletId,
          listed.flat().sort((a, b) => a.sequence - b.sequence),
        );
        const audit = await http(base, "GET", `/api/v1/wallets/${wallet.walletId}/audit`, { token: wallet.token });
        audits.set(wallet.walletId, audit.body);
      }),
    );
    const transferIds: string[] = ops
      .filter((op) => op.kind === "transfer" && acked(op))
      .map((op) => finalOf(op)?.body.transferId);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let id = transferIds.pop(); id !== undefined; id = transferIds.pop()) {
          const res = await http(replicaUrl(anyReplica()), "GET", `/api/v1/transfers/${id}`, { token: operator });
          transfers.set(id, res.body);
        }
      }),
    );
    const all = ops.flatMap((op) => op.attempts);
    const count = (f: (a: Attempt) => boolean) => all.filter(f).length;
    console.log(
      `[concurrency] ${scenario.name}: ${ops.length} operations, ${all.length} attempts in ${Math.round(elapsedMs)} ms ` +
        `(${Math.round((all.length / elapsedMs) * 1000)} POST/s); ${ops.filter(acked).length} acknowledged, ` +
        `${ops.filter((op) => finalOf(op)?.status === 422).length} refused (insufficient funds, ` +
        `${ops.filter((op) => op.amount === HUGE).length} of them oversized), ${count((a) => a.replayed)} replays, ` +
        `${count((a) => a.status === 409)} x 409 in progress, ${count((a) => a.status === 503)} x 503; seed ${seed}`,
    );
  }, 120_000);

  afterAll(async () => {
    for (const cell of cells) await cell.stop();
    await store?.close();
  });

  it("every operation got a final answer (201, or 422 insufficient-funds); nothing else went wrong", () => {
    expect(unexpected, why("unexpected answers")).toEqual([]);
    expect(ops.length).toBe(WALLETS + scenario.clients * scenario.opsPerClient);
    for (const op of ops) expect(finalOf(op), why(`final answer for ${op.key}`)).toBeDefined();
    const deposits = ops.filter((op) => op.kind === "deposit");
    for (const op of deposits) expect(finalOf(op)?.status, why(`deposit ${op.key} is never refused`)).toBe(201);
    expect(ops.filter(acked).length).toBeGreaterThan(ops.length / 3);
  });

  it("retries of one key replay the first answer byte for byte; the operation ran exactly once", () => {
    let replays = 0;
    let crossReplica = 0;
    for (const op of ops) {
      const finals = op.attempts.filter(isFinal);
      const originals = finals.filter((a) => !a.replayed);
      expect(originals.length, why(`exactly one original answer for ${op.key}`)).toBe(1);
      const [original] = originals;
      for (const a of finals) {
        expect(a.status, why(`replay status of ${op.key}`)).toBe(original?.status);
        expect(a.text, why(`replay body of ${op.key}`)).toBe(original?.text);
        if (a.replayed) {
          replays += 1;
          if (a.replica !== original?.replica) crossReplica += 1;
        }
      }
    }
    expect(replays, why("replays happened")).toBeGreaterThan(ops.length / 5);
    if (scenario.replicas > 1)
      expect(crossReplica, why("replays answered by another replica")).toBeGreaterThan(ops.length / 20);
  });

  it("the same key with a different request is 422 idempotency-key-reused", () => {
    const misuses = ops.flatMap((op) => op.misuse);
    expect(misuses.length).toBeGreaterThanOrEqual(Math.ceil(scenario.clients / 8));
    for (const m of misuses) {
      expect(m.status, why(m.text)).toBe(422);
      expect(m.code).toBe("idempotency-key-reused");
    }
  });

  it("money is conserved: total = deposits - withdrawals, each wallet = its acknowledged operations", () => {
    const model = new Map<string, bigint>(wallets.map((w) => [w.walletId, 0n]));
    const add = (walletId: string, delta: bigint) => model.set(walletId, (model.get(walletId) ?? 0n) + delta);
    let deposited = 0n;
    let withdrawn = 0n;
    for (const op of ops.filter(acked)) {
      if (op.kind === "deposit") {
        deposited += op.amount;
        add(op.walletId, op.amount);
      } else if (op.kind === "withdraw") {
        withdrawn += op.amount;
        add(op.walletId, -op.amount);
      } else {
        add(op.walletId, -op.amount);
        add(op.toWalletId ?? "", op.amount);
      }
    }
    const total = [...finalWallets.values()].reduce((sum, w) => sum + w.balance, 0n);
    expect(fmt(total), why("total money")).toBe(fmt(deposited - withdrawn));
    expect(deposited).toBeGreaterThanOrEqual(SEED_AMOUNT * BigInt(WALLETS));
    for (const wallet of wallets) {
      expect(fmt(finalWallets.get(wallet.walletId)?.balance ?? -1n), why(`balance of ${wallet.walletId}`)).toBe(
        fmt(model.get(wallet.walletId) ?? -1n),
      );
    }
  });

  it("no balance was ever negative: not in any response, any poll, or any entry", () => {
    for (const op of ops) {
      for (const a of op.attempts.filter((x) => x.status === 201 && op.kind !== "transfer")) {
        expect(toMinor(a.body.balanceAfter), why(`balanceAfter of ${op.key}`)).toBeGreaterThanOrEqual(0n);
      }
    }
    expect(polled.length).toBeGreaterThan(WALLETS);
    for (const p of polled) expect(p.balance, why(`polled balance of ${p.walletId}`)).toBeGreaterThanOrEqual(0n);
    for (const chain of chains.values()) {
      for (const e of chain)
        expect(toMinor(e.balanceAfter), why(`entry ${e.transactionId}`)).toBeGreaterThanOrEqual(0n);
    }
    // Each poller reading saw versions never go backwards (one store, consistent reads).
    const lastVersion = new Map<string, number>();
    for (const p of polled) {
      expect(p.version, why(`version of ${p.walletId} went backwards`)).toBeGreaterThanOrEqual(
        lastVersion.get(p.walletId) ?? 0,
      );
      lastVersion.set(p.walletId, p.version);
    }
  });

  it("every wallet: sequences 1..n without gaps, balance = sum of entries = last balanceAfter", () => {
    for (const wallet of wallets) {
      const chain = chains.get(wallet.walletId) ?? [];
      const final = finalWallets.get(wallet.walletId);
      expect(
        chain.map((e) => e.sequence),
        why(`sequences of ${wallet.walletId}`),
      ).toEqual(Array.from({ length: chain.length }, (_, i) => i + 1));
      expect(chain.length).toBe(final?.version);
      let sum = 0n;
      for (const e of chain) {
        const amount = toMinor(e.amount);
        expect(amount).toBeGreaterThan(0n);
        sum += e.type === "WITHDRAWAL" || e.type === "TRANSFER_OUT" ? -amount : amount;
        expect(toMinor(e.balanceAfter), why(`running balance at ${wallet.walletId}#${e.sequence}`)).toBe(sum);
        expect(e.walletId).toBe(wallet.walletId);
        expect(e.currency).toBe(CURRENCY);
      }
      expect(sum).toBe(final?.balance);
      expect(chain.at(-1)?.balanceAfter).toBe(fmt(final?.balance ?? -1n));
      // Pages were newest first, without overlap.
      const listed = (pages.get(wallet.walletId) ?? []).flat().map((e) => e.sequence);
      expect(listed).toEqual([...listed].sort((a, b) => b - a));
      expect(new Set(listed).size).toBe(listed.length);
      for (const page of (pages.get(wallet.walletId) ?? []).slice(0, -1)) expect(page.length).toBe(37);
    }
  });

  it("every hash chain is valid: GET /audit and an offline recomputation agree", () => {
    for (const wallet of wallets) {
      const chain = chains.get(wallet.walletId) ?? [];
      const verifier = new ChainVerifier(minorFromFormatted);
      let prev = GENESIS_HASH;
      let lastCreated = 0;
      for (const e of chain) {
        const { hash, ...fields } = e;
        expect(e.prevHash, why(`prevHash of ${wallet.walletId}#${e.sequence}`)).toBe(prev);
        expect(entryHash(fields), why(`hash of ${wallet.walletId}#${e.sequence}`)).toBe(hash);
        expect(Date.parse(e.createdAt)).toBeGreaterThanOrEqual(lastCreated);
        lastCreated = Date.parse(e.createdAt);
        prev = hash;
        verifier.add(e);
      }
      const offline = verifier.result();
      expect(offline.valid, why(`offline chain of ${wallet.walletId}: ${offline.reason}`)).toBe(true);
      expect(verifier.balance).toBe(finalWallets.get(wallet.walletId)?.balance);
      expect(audits.get(wallet.walletId), why(`audit of ${wallet.walletId}`)).toEqual({
        walletId: wallet.walletId,
        valid: true,
        entries: chain.length,
        headHash: chain.length > 0 ? prev : GENESIS_HASH,
        firstInvalidSequence: null,
      });
    }
  });

  it("each acknowledged operation is in the ledger exactly once, and nothing else is", () => {
    const all = [...chains.values()].flat();
    const byTransaction = new Map<string, TransactionView[]>();
    const byTransfer = new Map<string, TransactionView[]>();
    for (const e of all) {
      byTransaction.set(e.transactionId, [...(byTransaction.get(e.transactionId) ?? []), e]);
      if (e.transferId) byTransfer.set(e.transferId, [...(byTransfer.get(e.transferId) ?? []), e]);
    }
    let expectedEntries = 0;
    for (const op of ops.filter(acked)) {
      const body = finalOf(op)?.body;
      if (op.kind === "transfer") {
        expectedEntries += 2;
        expect(body.status).toBe("COMPLETED");
        expect(body.amount).toBe(fmt(op.amount));
        expect([body.fromWalletId, body.toWalletId]).toEqual([op.walletId, op.toWalletId]);
        const legs = byTransfer.get(body.transferId) ?? [];
        expect(legs.length, why(`entries of transfer ${body.transferId}`)).toBe(2);
        const out = legs.find((e) => e.type === "TRANSFER_OUT");
        const into = legs.find((e) => e.type === "TRANSFER_IN");
        expect(out?.walletId).toBe(op.walletId);
        expect(out?.counterpartyWalletId).toBe(op.toWalletId);
        expect(into?.walletId).toBe(op.toWalletId);
        expect(into?.counterpartyWalletId).toBe(op.walletId);
        expect([out?.amount, into?.amount]).toEqual([fmt(op.amount), fmt(op.amount)]);
        const stored = transfers.get(body.transferId);
        expect(stored, why(`GET /transfers/${body.transferId}`)).toEqual(body);
      } else {
        expectedEntries += 1;
        const found = byTransaction.get(body.transactionId) ?? [];
        expect(found.length, why(`entries of transaction ${body.transactionId}`)).toBe(1);
        // The acknowledged Transaction is exactly the stored entry.
        expect(found[0]).toEqual(body);
        expect(body.type).toBe(op.kind === "deposit" ? "DEPOSIT" : "WITHDRAWAL");
        expect(body.walletId).toBe(op.walletId);
        expect(body.amount).toBe(fmt(op.amount));
      }
    }
    expect(all.length, why("entries = acknowledged operations (no duplicate, no stray)")).toBe(expectedEntries);
    expect(byTransaction.size).toBe(all.length);
  });

  it("422 insufficient-funds refusals changed nothing (and some happened)", () => {
    const refused = ops.filter((op) => finalOf(op)?.status === 422);
    expect(refused.length, why("refusals")).toBeGreaterThan(0);
    for (const op of refused) {
      expect(op.kind).not.toBe("deposit");
      expect(finalOf(op)?.body.transactionId).toBeUndefined();
      expect(finalOf(op)?.body.transferId).toBeUndefined();
    }
    // Every refusal of an amount larger than all money in the cell: none of them left a trace.
    const hugeRefs = new Set(ops.filter((op) => op.amount === HUGE).map((op) => op.key));
    for (const op of ops.filter((o) => hugeRefs.has(o.key))) expect(finalOf(op)?.status).toBe(422);
    for (const chain of chains.values()) {
      for (const e of chain) expect(toMinor(e.amount)).toBeLessThan(HUGE);
    }
    // Entries per wallet = acknowledged operations touching it: refusals and retries added none.
    for (const wallet of wallets) {
      const touching = ops
        .filter(acked)
        .filter((op) => op.walletId === wallet.walletId || op.toWalletId === wallet.walletId).length;
      expect(chains.get(wallet.walletId)?.length, why(`entries of ${wallet.walletId}`)).toBe(touching);
    }
  });
});

describe("sqlite: a replica that cannot get the write lock in time", () => {
  it("answers 503 cell-unavailable with Retry-After, writes nothing, and the same key applies once later", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cellwallet-lock-")), "ledger.sqlite");
    const store = new SqliteLedgerStore({ path, busyTimeoutMs: 50 });
    const cell = await startInProcessCell(store);
    // Another replica's connection to the same file.
    const other = new Database(path);
    try {
      const userId = `lock-${randomUUID().slice(0, 8)}`;
      const tok = await token(userId);
      const created = await http(cell.url, "POST", "/api/v1/wallets", { token: tok, body: { userId } });
      expect(created.status).toBe(201);
      const walletPath = `/api/v1/wallets/${created.body.walletId}`;
      const send = () =>
        http(cell.url, "POST", `${walletPath}/deposit`, {
          token: tok,
          body: { amount: "5.00" },
          idempotencyKey: "locked",
        });

      other.exec("BEGIN IMMEDIATE");
      let blocked: Awaited<ReturnType<typeof send>>;
      try {
        blocked = await send();
      } finally {
        other.exec("ROLLBACK");
      }
      // Not a bug (500): nothing was written and the client may retry with the same key.
      expect(blocked.status, blocked.text).toBe(503);
      expect(blocked.body.code).toBe("cell-unavailable");
      expect(blocked.headers.get("retry-after")).toBe("1");
      expect((await http(cell.url, "GET", walletPath, { token: tok })).body).toMatchObject({
        balance: "0.00",
        version: 0,
      });

      const applied = await send();
      expect(applied.status).toBe(201);
      expect(applied.headers.get("idempotency-replayed")).toBeNull();
      const replayed = await send();
      expect(replayed.headers.get("idempotency-replayed")).toBe("true");
      expect(replayed.text).toBe(applied.text);
      expect((await http(cell.url, "GET", walletPath, { token: tok })).body).toMatchObject({
        balance: "5.00",
        version: 1,
      });
    } finally {
      other.close();
      await cell.close();
      await store.close();
    }
  });
});
