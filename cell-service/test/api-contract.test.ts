/**
 * The public HTTP contract of a cell (docs/conventions.md, "Public REST API", "Hash chain", "Money",
 * "Idempotency", "Errors", "Operations conventions"), over real HTTP against an in-process cell,
 * once per store adapter. Everything asserted here is what a client may rely on.
 */
import { createHash, createHmac } from "node:crypto";
import { entryHash, PROBLEM_TYPES, type ProblemCode, type TransactionView } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { type HttpResult, http, type RequestOptions } from "../../test-support/http.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { TEST_JWT_SECRET, token } from "../../test-support/tokens.js";

const motoEndpoint = inject("motoEndpoint");

const API = "/api/v1";
const HEX64 = /^[0-9a-f]{64}$/;
const ZERO_HASH = "0".repeat(64);
const TIME_Z_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const USER_AGENT = "cellwallet-contract-test/1.0";
const WALLET_KEYS = ["balance", "createdAt", "currency", "updatedAt", "userId", "version", "walletId"];
const TRANSACTION_KEYS = [
  "amount",
  "balanceAfter",
  "contextDigest",
  "createdAt",
  "currency",
  "hash",
  "prevHash",
  "sequence",
  "transactionId",
  "type",
  "walletId",
];
/** A well-formed id (ULID shape) that names nothing. */
const UNKNOWN_ID = "01J0000000000000000000000Z";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (o: object) => Object.keys(o).sort();
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An HS256 JWT built by hand, so tests can choose every claim (an expired one, say). */
function signJwt(payload: Record<string, unknown>, secret = TEST_JWT_SECRET): string {
  const head = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(payload)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

/** Independent re-implementation of the context digest (JCS of flat ASCII members = sorted JSON). */
function expectedContextDigest(context: Record<string, string | string[]>): string {
  const members: Record<string, unknown> = {};
  for (const key of Object.keys(context).sort()) members[key] = context[key];
  return createHash("sha256").update(JSON.stringify(members), "utf8").digest("hex");
}

function expectProblem(res: HttpResult, code: ProblemCode): void {
  const { status, title } = PROBLEM_TYPES[code];
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json(;|$)/);
  expect(res.body).toMatchObject({ type: `/problems/${code}`, title, status, code });
  expect(typeof res.body.detail).toBe("string");
  expect(res.body.detail.length).toBeGreaterThan(0);
  expect(typeof res.body.requestId).toBe("string");
  expect(res.body.requestId).toBe(res.headers.get("x-request-id"));
  if (code === "validation-error") {
    expect(Array.isArray(res.body.errors), res.text).toBe(true);
    expect(res.body.errors.length).toBeGreaterThan(0);
    for (const e of res.body.errors) {
      expect(typeof e.pointer).toBe("string");
      expect(typeof e.detail).toBe("string");
    }
  }
}

function expectTransactionShape(tx: TransactionView): void {
  const optional = ["reference", "transferId", "counterpartyWalletId"].filter((k) => k in tx);
  expect(sorted(tx)).toEqual([...TRANSACTION_KEYS, ...optional].sort());
  expect(tx.createdAt).toMatch(TIME_Z_MS);
  expect(tx.contextDigest).toMatch(HEX64);
  expect(tx.prevHash).toMatch(HEX64);
  expect(tx.hash).toMatch(HEX64);
  const { hash, ...fields } = tx;
  expect(entryHash(fields)).toBe(hash);
}

/** Ascending-sequence entries: sequences 1..n, prevHash links, hashes recompute. */
function expectChain(ascending: TransactionView[]): void {
  let prev = ZERO_HASH;
  ascending.forEach((tx, i) => {
    expectTransactionShape(tx);
    expect(tx.sequence).toBe(i + 1);
    expect(tx.prevHash).toBe(prev);
    if (i > 0) expect(Date.parse(tx.createdAt)).toBeGreaterThanOrEqual(Date.parse(ascending[i - 1]?.createdAt ?? ""));
    prev = tx.hash;
  });
}

describe.each(ADAPTERS)("HTTP contract of a cell (%s store)", (adapter) => {
  let testStore: TestStore;
  let cell: InProcessCell;
  const serverErrors: string[] = [];
  let users = 0;
  const tokens = new Map<string, Promise<string>>();

  beforeAll(async () => {
    testStore = await openTestStore(adapter, motoEndpoint);
    cell = await startInProcessCell(testStore.store);
  });
  afterAll(async () => {
    await cell?.close();
    await testStore?.store.close();
  });

  const tok = (sub: string, scope = "wallet"): Promise<string> => {
    const key = `${sub}\n${scope}`;
    let t = tokens.get(key);
    if (!t) {
      t = token(sub, scope);
      tokens.set(key, t);
    }
    return t;
  };
  const operator = () => tok("ops-1", "wallet:operator");
  const auditor = () => tok("audit-1", "wallet:auditor");

  /** Every request of the suite goes through here: 5xx answers are collected and fail the last test. */
  async function api(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
    const res = await http(cell.url, method, path, {
      ...options,
      headers: { "user-agent": USER_AGENT, ...options.headers },
    });
    if (res.status >= 500) serverErrors.push(`${method} ${path} -> ${res.status} ${res.text}`);
    return res;
  }
  async function rawFetch(method: string, path: string, init: RequestInit = {}): Promise<HttpResult> {
    const response = await fetch(`${cell.url}${path}`, { method, ...init });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status >= 500) serverErrors.push(`${method} ${path} -> ${response.status} ${text}`);
    return { status: response.status, headers: response.headers, text, body };
  }

  interface Owner {
    userId: string;
    token: string;
    wallet: Record<string, unknown> & { walletId: string; currency: string };
  }

  const newUserId = (prefix = "user") => `${prefix}-${adapter}-${++users}`;

  async function newOwner(currency?: string, prefix?: string): Promise<Owner> {
    const userId = newUserId(prefix);
    const t = await tok(userId);
    const res = await api("POST", `${API}/wallets`, {
      token: t,
      body: currency === undefined ? { userId } : { userId, currency },
    });
    expect(res.status, res.text).toBe(201);
    return { userId, token: t, wallet: res.body };
  }

  async function deposit(o: Owner, amount: unknown, extra: RequestOptions = {}): Promise<HttpResult> {
    return api("POST", `${API}/wallets/${o.wallet.walletId}/deposit`, { token: o.token, body: { amount }, ...extra });
  }
  async function funded(amount: string, currency?: string): Promise<Owner> {
    const o = await newOwner(currency);
    const res = await deposit(o, amount);
    expect(res.status, res.text).toBe(201);
    return o;
  }
  async function getWallet(walletId: string, t?: string): Promise<HttpResult> {
    return api("GET", `${API}/wallets/${walletId}`, { token: t ?? (await operator()) });
  }
  async function balanceOf(walletId: string): Promise<{ balance: string; version: number }> {
    const res = await getWallet(walletId);
    expect(res.status).toBe(200);
    return { balance: res.body.balance, version: res.body.version };
  }
  async function allTransactions(walletId: string): Promise<TransactionView[]> {
    const res = await api("GET", `${API}/wallets/${walletId}/transactions?limit=200`, { token: await operator() });
    expect(res.status, res.text).toBe(200);
    return res.body.items;
  }

  describe("wallets", () => {
    it("POST /wallets creates the caller's wallet: 201, Location, USD by default, the exact Wallet shape", async () => {
      const userId = newUserId();
      const res = await api("POST", `${API}/wallets`, { token: await tok(userId), body: { userId } });
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(sorted(res.body)).toEqual(WALLET_KEYS);
      expect(res.body).toMatchObject({ userId, currency: "USD", balance: "0.00", version: 0 });
      expect(typeof res.body.walletId).toBe("string");
      expect(res.body.walletId.length).toBeGreaterThan(0);
      expect(res.body.createdAt).toMatch(TIME_Z_MS);
      expect(res.body.updatedAt).toMatch(TIME_Z_MS);
      expect(Math.abs(Date.parse(res.body.createdAt) - Date.now())).toBeLessThan(60_000);
      expect(res.headers.get("location")).toBe(`${API}/wallets/${encodeURIComponent(res.body.walletId)}`);
      const location = res.headers.get("location") ?? "";
      const read = await api("GET", location, { token: await tok(userId) });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
    });

    it("an explicit currency is kept and balances carry exactly its minor digits", async () => {
      for (const [currency, zero] of [
        ["JPY", "0"],
        ["BHD", "0.000"],
        ["EUR", "0.00"],
        ["CLF", "0.0000"],
        ["USD", "0.00"],
      ] as const) {
        const o = await newOwner(currency);
        expect(o.wallet).toMatchObject({ currency, balance: zero, version: 0 });
      }
    });

    it("a second wallet for a user is 409 wallet-already-exists naming the existing walletId", async () => {
      const o = await newOwner();
      for (const body of [{ userId: o.userId }, { userId: o.userId, currency: "JPY" }]) {
        const res = await api("POST", `${API}/wallets`, { token: o.token, body });
        expectProblem(res, "wallet-already-exists");
        expect(res.body.walletId).toBe(o.wallet.walletId);
      }
      const byOperator = await api("POST", `${API}/wallets`, { token: await operator(), body: { userId: o.userId } });
      expectProblem(byOperator, "wallet-already-exists");
      expect(byOperator.body.walletId).toBe(o.wallet.walletId);
      const list = await api("GET", `${API}/wallets?userId=${o.userId}`, { token: o.token });
      expect(list.body.items).toEqual([o.wallet]);
    });

    it("an operator may create a wallet for any user; a wallet user or an auditor may not (403, nothing created)", async () => {
      const target = newUserId("managed");
      const res = await api("POST", `${API}/wallets`, {
        token: await operator(),
        body: { userId: target, currency: "JPY" },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ userId: target, currency: "JPY", balance: "0" });
      // The owner then uses it with an ordinary token.
      const mine = await api("GET", `${API}/wallets/${res.body.walletId}`, { token: await tok(target) });
      expect(mine.status).toBe(200);

      const victim = newUserId("victim");
      const someone = await newOwner();
      const asUser = await api("POST", `${API}/wallets`, { token: someone.token, body: { userId: victim } });
      expectProblem(asUser, "forbidden");
      const asAuditor = await api("POST", `${API}/wallets`, { token: await auditor(), body: { userId: victim } });
      expectProblem(asAuditor, "forbidden");
      const asAuditorSelf = await api("POST", `${API}/wallets`, {
        token: await auditor(),
        body: { userId: "audit-1" },
      });
      expectProblem(asAuditorSelf, "forbidden");
      const list = await api("GET", `${API}/wallets?userId=${victim}`, { token: await operator() });
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ items: [] });
    });

    it("GET /wallets/{id}: owner, operator and auditor read it; another user 403; unknown 404", async () => {
      const o = await newOwner();
      for (const t of [o.token, await operator(), await auditor()]) {
        const res = await api("GET", `${API}/wallets/${o.wallet.walletId}`, { token: t });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual(o.wallet);
      }
      const other = await newOwner();
      expectProblem(await api("GET", `${API}/wallets/${o.wallet.walletId}`, { token: other.token }), "forbidden");
      expectProblem(await api("GET", `${API}/wallets/${UNKNOWN_ID}`, { token: o.token }), "wallet-not-found");
    });

    it("GET /wallets?userId=: the user's wallet in items, empty items when none, 403 for another user's", async () => {
      const o = await newOwner();
      for (const t of [o.token, await operator(), await auditor()]) {
        const res = await api("GET", `${API}/wallets?userId=${encodeURIComponent(o.userId)}`, { token: t });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({ items: [o.wallet] });
      }
      const nobody = newUserId("nobody");
      const none = await api("GET", `${API}/wallets?userId=${nobody}`, { token: await tok(nobody) });
      expect(none.status).toBe(200);
      expect(none.body).toEqual({ items: [] });
      const other = await newOwner();
      expectProblem(await api("GET", `${API}/wallets?userId=${o.userId}`, { token: other.token }), "forbidden");
      expectProblem(await api("GET", `${API}/wallets`, { token: o.token }), "validation-error");
    });
  });

  describe("deposits and withdrawals", () => {
    it("return 201 Transactions with every member, sequences 1,2,3 and a recomputable hash chain", async () => {
      const o = await newOwner();
      const walletId = o.wallet.walletId;
      const reqId = `contract-${adapter}-deposit-1`;
      const first = await deposit(o, "10.50", { headers: { "x-request-id": reqId }, idempotencyKey: "dep-1" });
      expect(first.status, first.text).toBe(201);
      expect(first.headers.get("content-type")).toMatch(/^application\/json/);
      const second = await deposit(o, 2.25);
      expect(second.status, second.text).toBe(201);
      const third = await api("POST", `${API}/wallets/${walletId}/withdraw`, {
        token: o.token,
        body: { amount: "5.00", reference: "rent — März" },
      });
      expect(third.status, third.text).toBe(201);

      const txs: TransactionView[] = [first.body, second.body, third.body];
      expectChain(txs);
      expect(txs.map((t) => [t.type, t.amount, t.balanceAfter, t.currency, t.walletId])).toEqual([
        ["DEPOSIT", "10.50", "10.50", "USD", walletId],
        ["DEPOSIT", "2.25", "12.75", "USD", walletId],
        ["WITHDRAWAL", "5.00", "7.75", "USD", walletId],
      ]);
      expect(txs[0]?.prevHash).toBe(ZERO_HASH);
      expect(third.body.reference).toBe("rent — März");
      for (const t of txs) {
        expect(t).not.toHaveProperty("transferId");
        expect(t).not.toHaveProperty("counterpartyWalletId");
      }
      expect(new Set(txs.map((t) => t.transactionId)).size).toBe(3);
      // The digest covers exactly the documented audit context of the request.
      expect(first.body.contextDigest).toBe(
        expectedContextDigest({
          principal: o.userId,
          scopes: ["wallet"],
          clientIp: "127.0.0.1",
          userAgent: USER_AGENT,
          requestId: reqId,
          idempotencyKey: "dep-1",
        }),
      );

      const wallet = await getWallet(walletId, o.token);
      expect(wallet.body).toMatchObject({ balance: "7.75", version: 3, createdAt: o.wallet.createdAt });
      expect(Date.parse(wallet.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(third.body.createdAt));
      // The listing serves the very same entries.
      expect(await allTransactions(walletId)).toEqual([...txs].reverse());
    });

    it("amounts follow the currency's minor digits: JPY integers, BHD three decimals, numbers or strings", async () => {
      const yen = await newOwner("JPY");
      const y1 = await deposit(yen, "1000");
      const y2 = await deposit(yen, 5);
      expect([y1.status, y2.status]).toEqual([201, 201]);
      expect([y1.body.amount, y2.body.amount, y2.body.balanceAfter, y2.body.currency]).toEqual([
        "1000",
        "5",
        "1005",
        "JPY",
      ]);
      const dinar = await newOwner("BHD");
      const d1 = await deposit(dinar, "0.001");
      const d2 = await deposit(dinar, 1.5);
      expect([d1.status, d2.status]).toEqual([201, 201]);
      expect([d1.body.amount, d2.body.amount, d2.body.balanceAfter]).toEqual(["0.001", "1.500", "1.501"]);
      expect((await balanceOf(dinar.wallet.walletId)).balance).toBe("1.501");
      expect((await balanceOf(yen.wallet.walletId)).balance).toBe("1005");
    });

    it("accepts the limits themselves: 1,000,000,000 per operation and a 128-character reference", async () => {
      const o = await newOwner();
      const reference = "r".repeat(128);
      const big = await deposit(o, "1000000000.00", {});
      expect(big.status, big.text).toBe(201);
      expect(big.body.amount).toBe("1000000000.00");
      const again = await api("POST", `${API}/wallets/${o.wallet.walletId}/deposit`, {
        token: o.token,
        body: { amount: 1000000000, reference },
      });
      expect(again.status, again.text).toBe(201);
      expect(again.body.reference).toBe(reference);
      expect(again.body.balanceAfter).toBe("2000000000.00");
      const out = await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, {
        token: o.token,
        body: { amount: "0.01" },
      });
      expect(out.body.balanceAfter).toBe("1999999999.99");
    });

    it("concurrent deposits without keys to one wallet are each applied once, with gap-free sequences", async () => {
      const o = await newOwner();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => deposit(o, String(i + 1))));
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
      const ascending = (await allTransactions(o.wallet.walletId)).reverse();
      expectChain(ascending);
      expect(ascending.map((t) => t.amount).sort()).toEqual(results.map((r) => r.body.amount).sort());
      expect(ascending.at(-1)?.balanceAfter).toBe("36.00");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "36.00", version: 8 });
      const audit = await api("GET", `${API}/wallets/${o.wallet.walletId}/audit`, { token: o.token });
      expect(audit.body).toMatchObject({ valid: true, entries: 8, headHash: ascending.at(-1)?.hash });
    });

    it("an operator may deposit to and withdraw from any user's wallet", async () => {
      const o = await newOwner();
      const op = await operator();
      const d = await api("POST", `${API}/wallets/${o.wallet.walletId}/deposit`, { token: op, body: { amount: "3" } });
      expect(d.status, d.text).toBe(201);
      const w = await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, { token: op, body: { amount: "1" } });
      expect(w.status, w.text).toBe(201);
      expect(w.body).toMatchObject({ type: "WITHDRAWAL", amount: "1.00", balanceAfter: "2.00", sequence: 2 });
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "2.00", version: 2 });
    });

    it("a withdrawal beyond the balance is 422 insufficient-funds and changes nothing", async () => {
      const o = await funded("5.00");
      const before = await allTransactions(o.wallet.walletId);
      const res = await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, {
        token: o.token,
        body: { amount: "5.01" },
      });
      expectProblem(res, "insufficient-funds");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "5.00", version: 1 });
      expect(await allTransactions(o.wallet.walletId)).toEqual(before);
      const exact = await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, {
        token: o.token,
        body: { amount: "5.00" },
      });
      expect(exact.status).toBe(201);
      expect(exact.body.balanceAfter).toBe("0.00");
    });
  });

  describe("transfers", () => {
    it("POST /wallets/transfer: 201 COMPLETED, TRANSFER_OUT and TRANSFER_IN entries linked to each other", async () => {
      const alice = await funded("100.00");
      const bob = await funded("1.00");
      const res = await api("POST", `${API}/wallets/transfer`, {
        token: alice.token,
        body: {
          fromWalletId: alice.wallet.walletId,
          toWalletId: bob.wallet.walletId,
          amount: "30.25",
          reference: "dinner",
        },
      });
      expect(res.status, res.text).toBe(201);
      const transfer = res.body;
      expect(sorted(transfer)).toEqual(
        [
          "amount",
          "completedAt",
          "createdAt",
          "currency",
          "fromWalletId",
          "reference",
          "status",
          "toWalletId",
          "transferId",
        ].sort(),
      );
      expect(transfer).toMatchObject({
        fromWalletId: alice.wallet.walletId,
        toWalletId: bob.wallet.walletId,
        amount: "30.25",
        currency: "USD",
        status: "COMPLETED",
        reference: "dinner",
      });
      expect(transfer.createdAt).toMatch(TIME_Z_MS);
      expect(transfer.completedAt).toMatch(TIME_Z_MS);
      expect(Date.parse(transfer.completedAt)).toBeGreaterThanOrEqual(Date.parse(transfer.createdAt));

      const aliceTxs = await allTransactions(alice.wallet.walletId);
      const bobTxs = await allTransactions(bob.wallet.walletId);
      expectChain([...aliceTxs].reverse());
      expectChain([...bobTxs].reverse());
      expect(aliceTxs[0]).toMatchObject({
        type: "TRANSFER_OUT",
        amount: "30.25",
        balanceAfter: "69.75",
        sequence: 2,
        transferId: transfer.transferId,
        counterpartyWalletId: bob.wallet.walletId,
        reference: "dinner",
      });
      expect(bobTxs[0]).toMatchObject({
        type: "TRANSFER_IN",
        amount: "30.25",
        balanceAfter: "31.25",
        sequence: 2,
        transferId: transfer.transferId,
        counterpartyWalletId: alice.wallet.walletId,
        reference: "dinner",
      });
      expect(await balanceOf(alice.wallet.walletId)).toEqual({ balance: "69.75", version: 2 });
      expect(await balanceOf(bob.wallet.walletId)).toEqual({ balance: "31.25", version: 2 });
      // Without a reference the member is absent everywhere.
      const plain = await api("POST", `${API}/wallets/transfer`, {
        token: bob.token,
        body: { fromWalletId: bob.wallet.walletId, toWalletId: alice.wallet.walletId, amount: 1 },
      });
      expect(plain.status, plain.text).toBe(201);
      expect(plain.body).not.toHaveProperty("reference");
      expect(plain.body.amount).toBe("1.00");
      expect((await allTransactions(alice.wallet.walletId))[0]).not.toHaveProperty("reference");
    });

    it("GET /transfers/{id}: visible to sender, receiver, operator and auditor; 403 to a third user; 404 unknown", async () => {
      const alice = await funded("10.00");
      const bob = await newOwner();
      const carol = await funded("1.00");
      const created = await api("POST", `${API}/wallets/transfer`, {
        token: alice.token,
        body: { fromWalletId: alice.wallet.walletId, toWalletId: bob.wallet.walletId, amount: "4.00" },
      });
      expect(created.status, created.text).toBe(201);
      const path = `${API}/transfers/${created.body.transferId}`;
      for (const t of [alice.token, bob.token, await operator(), await auditor()]) {
        const res = await api("GET", path, { token: t });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual(created.body);
      }
      expectProblem(await api("GET", path, { token: carol.token }), "forbidden");
      expectProblem(await api("GET", `${API}/transfers/${UNKNOWN_ID}`, { token: alice.token }), "transfer-not-found");
    });

    it("refusals: same wallet, different currencies, too little money, unknown destination; nothing moves", async () => {
      const alice = await funded("10.00");
      const yen = await funded("100", "JPY");
      const send = (toWalletId: string, amount: string) =>
        api("POST", `${API}/wallets/transfer`, {
          token: alice.token,
          body: { fromWalletId: alice.wallet.walletId, toWalletId, amount },
        });
      expectProblem(await send(alice.wallet.walletId, "1.00"), "same-wallet-transfer");
      expectProblem(await send(yen.wallet.walletId, "1.00"), "currency-mismatch");
      const bob = await newOwner();
      expectProblem(await send(bob.wallet.walletId, "10.01"), "insufficient-funds");
      expectProblem(await send(UNKNOWN_ID, "1.00"), "wallet-not-found");
      expect(await balanceOf(alice.wallet.walletId)).toEqual({ balance: "10.00", version: 1 });
      expect(await balanceOf(yen.wallet.walletId)).toEqual({ balance: "100", version: 1 });
      expect(await balanceOf(bob.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
    });
  });

  describe("history and audit", () => {
    /** A wallet with `n` deposits of 1, 2, 3… major units at distinct milliseconds. */
    async function withHistory(n: number): Promise<{ o: Owner; ascending: TransactionView[] }> {
      const o = await newOwner();
      const ascending: TransactionView[] = [];
      for (let i = 1; i <= n; i++) {
        const res = await deposit(o, String(i));
        expect(res.status, res.text).toBe(201);
        ascending.push(res.body);
        await sleep(3);
      }
      return { o, ascending };
    }

    it("historical balance: the balanceAfter of the last entry at or before T; 0.00 and sequence 0 before any", async () => {
      const { o, ascending } = await withHistory(4);
      const walletId = o.wallet.walletId;
      const at = (timestamp: string) =>
        api("GET", `${API}/wallets/${walletId}/balance/historical?timestamp=${encodeURIComponent(timestamp)}`, {
          token: o.token,
        });
      const first = ascending[0] as TransactionView;
      const before = await at(new Date(Date.parse(first.createdAt) - 1).toISOString());
      expect(before.status, before.text).toBe(200);
      expect(sorted(before.body)).toEqual(["balance", "currency", "sequence", "timestamp", "walletId"]);
      expect(before.body).toMatchObject({ walletId, currency: "USD", balance: "0.00", sequence: 0 });
      const ancient = await at("2000-01-01T00:00:00Z");
      expect(ancient.body).toEqual({
        walletId,
        currency: "USD",
        balance: "0.00",
        timestamp: "2000-01-01T00:00:00.000Z",
        sequence: 0,
      });
      for (const tx of ascending) {
        const res = await at(tx.createdAt);
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({
          walletId,
          currency: "USD",
          balance: tx.balanceAfter,
          timestamp: tx.createdAt,
          sequence: tx.sequence,
        });
      }
      // Any RFC 3339 offset is accepted; the answer is in Z with milliseconds.
      const third = ascending[2] as TransactionView;
      const ms = Date.parse(third.createdAt);
      const shifted = new Date(ms + 5.5 * 3600_000).toISOString().replace("Z", "+05:30");
      const offset = await at(shifted);
      expect(offset.status, offset.text).toBe(200);
      expect(offset.body).toMatchObject({ timestamp: third.createdAt, balance: third.balanceAfter, sequence: 3 });
      const now = await at(new Date().toISOString());
      expect(now.body).toMatchObject({ balance: "10.00", sequence: 4 });
      expectProblem(await at(new Date(Date.now() + 60_000).toISOString()), "timestamp-in-future");
      expectProblem(
        await api("GET", `${API}/wallets/${walletId}/balance/historical`, { token: o.token }),
        "validation-error",
      );
      const other = await newOwner();
      expectProblem(
        await api("GET", `${API}/wallets/${walletId}/balance/historical?timestamp=2020-01-01T00:00:00Z`, {
          token: other.token,
        }),
        "forbidden",
      );
    });

    it("transactions: newest first, default and explicit limit, cursor pages without duplicates or gaps", async () => {
      const { o, ascending } = await withHistory(7);
      const walletId = o.wallet.walletId;
      const newest = [...ascending].reverse();
      const all = await api("GET", `${API}/wallets/${walletId}/transactions`, { token: o.token });
      expect(all.status, all.text).toBe(200);
      expect(sorted(all.body)).toEqual(["items", "nextCursor"]);
      expect(all.body).toEqual({ items: newest, nextCursor: null });

      for (const limit of [1, 2, 3, 7]) {
        const pages: TransactionView[][] = [];
        let cursor: string | null = null;
        do {
          const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
          const page: HttpResult = await api("GET", `${API}/wallets/${walletId}/transactions?${query}`, {
            token: o.token,
          });
          expect(page.status, page.text).toBe(200);
          expect(page.body.items.length).toBeLessThanOrEqual(limit);
          pages.push(page.body.items);
          cursor = page.body.nextCursor;
          expect(pages.length).toBeLessThanOrEqual(8);
        } while (cursor !== null);
        expect(pages.flat()).toEqual(newest);
        expect(pages.length).toBe(Math.ceil(7 / limit));
      }
      const empty = await newOwner();
      const none = await api("GET", `${API}/wallets/${empty.wallet.walletId}/transactions`, { token: empty.token });
      expect(none.body).toEqual({ items: [], nextCursor: null });
    });

    it("transactions: from/to are inclusive bounds on createdAt, any offset, and combine with paging", async () => {
      const { o, ascending } = await withHistory(7);
      const walletId = o.wallet.walletId;
      const from = (ascending[2] as TransactionView).createdAt;
      const to = (ascending[5] as TransactionView).createdAt;
      const expected = [...ascending]
        .reverse()
        .filter((t) => Date.parse(t.createdAt) >= Date.parse(from) && Date.parse(t.createdAt) <= Date.parse(to));
      expect(expected.map((t) => t.sequence)).toEqual([6, 5, 4, 3]);
      const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      const res = await api("GET", `${API}/wallets/${walletId}/transactions?${q}`, { token: o.token });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ items: expected, nextCursor: null });
      // The same bounds written with an offset.
      const fromOffset = new Date(Date.parse(from) - 3600_000).toISOString().replace("Z", "-01:00");
      const shifted = await api(
        "GET",
        `${API}/wallets/${walletId}/transactions?from=${encodeURIComponent(fromOffset)}&to=${encodeURIComponent(to)}`,
        { token: o.token },
      );
      expect(shifted.body.items).toEqual(expected);
      const onlyFrom = await api("GET", `${API}/wallets/${walletId}/transactions?from=${encodeURIComponent(to)}`, {
        token: o.token,
      });
      expect(onlyFrom.body.items.map((t: TransactionView) => t.sequence)).toEqual([7, 6]);
      const onlyTo = await api("GET", `${API}/wallets/${walletId}/transactions?to=${encodeURIComponent(from)}`, {
        token: o.token,
      });
      expect(onlyTo.body.items.map((t: TransactionView) => t.sequence)).toEqual([3, 2, 1]);
      const first = await api("GET", `${API}/wallets/${walletId}/transactions?${q}&limit=3`, { token: o.token });
      expect(first.body.items).toEqual(expected.slice(0, 3));
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await api(
        "GET",
        `${API}/wallets/${walletId}/transactions?${q}&limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`,
        { token: o.token },
      );
      expect(second.body).toEqual({ items: expected.slice(3), nextCursor: null });
    });

    it("transactions: an invalid cursor, or another wallet's cursor, is 400 validation-error", async () => {
      const { o } = await withHistory(3);
      const { o: other } = await withHistory(3);
      const page = await api("GET", `${API}/wallets/${other.wallet.walletId}/transactions?limit=1`, {
        token: other.token,
      });
      const foreignCursor = page.body.nextCursor as string;
      expect(typeof foreignCursor).toBe("string");
      for (const cursor of ["not-a-cursor!", "AAAA", foreignCursor, b64url({ w: o.wallet.walletId, t: "x", s: 1 })]) {
        const res = await api(
          "GET",
          `${API}/wallets/${o.wallet.walletId}/transactions?cursor=${encodeURIComponent(cursor)}`,
          { token: o.token },
        );
        expectProblem(res, "validation-error");
      }
      expectProblem(
        await api("GET", `${API}/wallets/${o.wallet.walletId}/transactions?limit=0`, { token: o.token }),
        "validation-error",
      );
    });

    it("GET one transaction: the same entry as listed; 404 for unknown ids or another wallet's entry; 403", async () => {
      const alice = await funded("3.00");
      const bob = await funded("4.00");
      const [entry] = await allTransactions(alice.wallet.walletId);
      const [bobEntry] = await allTransactions(bob.wallet.walletId);
      if (!entry || !bobEntry) throw new Error("fixture");
      const path = `${API}/wallets/${alice.wallet.walletId}/transactions/${entry.transactionId}`;
      for (const t of [alice.token, await operator(), await auditor()]) {
        const res = await api("GET", path, { token: t });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual(entry);
      }
      expectProblem(await api("GET", path, { token: bob.token }), "forbidden");
      expectProblem(
        await api("GET", `${API}/wallets/${alice.wallet.walletId}/transactions/${bobEntry.transactionId}`, {
          token: alice.token,
        }),
        "transaction-not-found",
      );
      expectProblem(
        await api("GET", `${API}/wallets/${alice.wallet.walletId}/transactions/${UNKNOWN_ID}`, { token: alice.token }),
        "transaction-not-found",
      );
      expectProblem(
        await api("GET", `${API}/wallets/${UNKNOWN_ID}/transactions/${entry.transactionId}`, { token: alice.token }),
        "wallet-not-found",
      );
    });

    it("audit: valid, entries, headHash of the last entry (64 zeros when empty), firstInvalidSequence null", async () => {
      const o = await newOwner();
      const path = `${API}/wallets/${o.wallet.walletId}/audit`;
      const empty = await api("GET", path, { token: o.token });
      expect(empty.status, empty.text).toBe(200);
      expect(empty.body).toEqual({
        walletId: o.wallet.walletId,
        valid: true,
        entries: 0,
        headHash: ZERO_HASH,
        firstInvalidSequence: null,
      });
      await deposit(o, "9.00");
      await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, { token: o.token, body: { amount: "2.50" } });
      const head = (await allTransactions(o.wallet.walletId))[0];
      for (const t of [o.token, await operator(), await auditor()]) {
        const res = await api("GET", path, { token: t });
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({
          walletId: o.wallet.walletId,
          valid: true,
          entries: 2,
          headHash: head?.hash,
          firstInvalidSequence: null,
        });
      }
      const other = await newOwner();
      expectProblem(await api("GET", path, { token: other.token }), "forbidden");
      expectProblem(await api("GET", `${API}/wallets/${UNKNOWN_ID}/audit`, { token: o.token }), "wallet-not-found");
    });
  });

  describe("every problem a single cell produces", () => {
    it("validation-error: 400 with errors[{pointer, detail}] naming the member", async () => {
      const o = await newOwner();
      const missing = await api("POST", `${API}/wallets`, { token: o.token, body: {} });
      expectProblem(missing, "validation-error");
      expect(missing.body.errors.map((e: { pointer: string }) => e.pointer)).toContain("/userId");
      const extra = await api("POST", `${API}/wallets/${o.wallet.walletId}/deposit`, {
        token: o.token,
        body: { amount: "1.00", memo: "misspelt reference" },
      });
      expectProblem(extra, "validation-error");
      expect(extra.body.errors.map((e: { pointer: string }) => e.pointer)).toContain("/memo");
      const limit = await api("GET", `${API}/wallets/${o.wallet.walletId}/transactions?limit=201`, { token: o.token });
      expectProblem(limit, "validation-error");
      expect(limit.body.errors.map((e: { pointer: string }) => e.pointer).join()).toContain("limit");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
    });

    it("malformed-json and invalid-amount: 400; more decimals than the currency has: 422 amount-precision", async () => {
      const o = await newOwner();
      expectProblem(
        await api("POST", `${API}/wallets/${o.wallet.walletId}/deposit`, { token: o.token, body: '{"amount": "1' }),
        "malformed-json",
      );
      expectProblem(await deposit(o, "ten"), "invalid-amount");
      expectProblem(await deposit(o, "10.005"), "amount-precision");
      expectProblem(await deposit(o, "10.00005"), "invalid-amount");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
    });

    it("unauthenticated: 401 without a token, with garbage, with another secret, or expired", async () => {
      const o = await newOwner();
      const now = Math.floor(Date.now() / 1000);
      const cases: Record<string, string | undefined> = {
        none: undefined,
        garbage: "garbage",
        wrongSecret: await token(o.userId, "wallet", "some-other-secret-of-sufficient-length!!"),
        expired: signJwt({ sub: o.userId, scope: "wallet", iat: now - 7200, exp: now - 3600 }),
      };
      for (const [name, t] of Object.entries(cases)) {
        for (const [method, path, body] of [
          ["GET", `${API}/wallets/${o.wallet.walletId}`, undefined],
          ["POST", `${API}/wallets/${o.wallet.walletId}/deposit`, { amount: "1.00" }],
        ] as const) {
          const res = await api(method, path, { ...(t !== undefined ? { token: t } : {}), body });
          expect(res.status, `${name}: ${res.text}`).toBe(401);
          expectProblem(res, "unauthenticated");
        }
      }
      // The very same claims, signed properly, are accepted.
      const fresh = signJwt({ sub: o.userId, scope: "wallet", iat: now, exp: now + 600 });
      expect((await api("GET", `${API}/wallets/${o.wallet.walletId}`, { token: fresh })).status).toBe(200);
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
    });

    it("forbidden: 403 for a valid token without the right", async () => {
      const o = await newOwner();
      const other = await newOwner();
      expectProblem(await deposit(o, "1.00", { token: other.token }), "forbidden");
      expectProblem(await deposit(o, "1.00", { token: await auditor() }), "forbidden");
      const noScope = await tok(o.userId, "");
      expectProblem(await api("GET", `${API}/wallets/${o.wallet.walletId}`, { token: noScope }), "forbidden");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
    });

    it("not-found: 404 for a path that names no resource", async () => {
      const t = await operator();
      for (const path of [`${API}/nothing-here`, `${API}/wallets/x/y/z/w`, "/no/such/path", `${API}/wallets/`]) {
        expectProblem(await api("GET", path, { token: t }), "not-found");
      }
    });

    it("method-not-allowed: 405 with an Allow header on known paths", async () => {
      const o = await newOwner();
      const id = o.wallet.walletId;
      const cases: [string, string, string[]][] = [
        ["GET", `${API}/wallets/transfer`, ["POST"]],
        ["PUT", `${API}/wallets/transfer`, ["POST"]],
        ["DELETE", `${API}/wallets/${id}`, ["GET"]],
        ["PATCH", `${API}/wallets/${id}`, ["GET"]],
        ["GET", `${API}/wallets/${id}/deposit`, ["POST"]],
        ["PUT", `${API}/wallets/${id}/withdraw`, ["POST"]],
        ["DELETE", `${API}/wallets`, ["GET", "POST"]],
        ["POST", `${API}/transfers/${UNKNOWN_ID}`, ["GET"]],
        ["POST", `${API}/wallets/${id}/audit`, ["GET"]],
      ];
      for (const [method, path, allowed] of cases) {
        const res = await api(method, path, { token: o.token });
        expectProblem(res, "method-not-allowed");
        const allow = (res.headers.get("allow") ?? "").split(",").map((m) => m.trim());
        expect(allow.sort(), `${method} ${path}`).toEqual(allowed);
      }
      // DELETE did not delete.
      expect((await getWallet(id, o.token)).body).toEqual(o.wallet);
    });

    it("payload-too-large: 413 for a body over 16 KiB, nothing applied", async () => {
      const o = await newOwner();
      const body = JSON.stringify({ amount: "1.00", reference: "x".repeat(17 * 1024) });
      expectProblem(
        await api("POST", `${API}/wallets/${o.wallet.walletId}/deposit`, { token: o.token, body }),
        "payload-too-large",
      );
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
    });

    it("unsupported-media-type: 415 for text/plain or no content-type, nothing applied", async () => {
      const o = await newOwner();
      const path = `${API}/wallets/${o.wallet.walletId}/deposit`;
      const json = JSON.stringify({ amount: "1.00" });
      expectProblem(
        await api("POST", path, { token: o.token, body: json, headers: { "content-type": "text/plain" } }),
        "unsupported-media-type",
      );
      // A byte body: fetch sets no content-type at all.
      const res = await rawFetch("POST", path, {
        headers: { authorization: `Bearer ${o.token}` },
        body: new TextEncoder().encode(json),
      });
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expectProblem(res, "unsupported-media-type");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
      // The same bytes as application/json (with the optional charset) are accepted.
      const ok = await api("POST", path, {
        token: o.token,
        body: json,
        headers: { "content-type": "application/json; charset=utf-8" },
      });
      expect(ok.status, ok.text).toBe(201);
    });

    it("wallet-already-exists, insufficient-funds, same-wallet-transfer, currency-mismatch: full problem bodies", async () => {
      const o = await funded("1.00");
      const yen = await newOwner("JPY");
      const exists = await api("POST", `${API}/wallets`, { token: o.token, body: { userId: o.userId } });
      expectProblem(exists, "wallet-already-exists");
      expect(exists.body.walletId).toBe(o.wallet.walletId);
      expectProblem(
        await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, { token: o.token, body: { amount: "2" } }),
        "insufficient-funds",
      );
      const transfer = (toWalletId: string) =>
        api("POST", `${API}/wallets/transfer`, {
          token: o.token,
          body: { fromWalletId: o.wallet.walletId, toWalletId, amount: "0.50" },
        });
      expectProblem(await transfer(o.wallet.walletId), "same-wallet-transfer");
      expectProblem(await transfer(yen.wallet.walletId), "currency-mismatch");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "1.00", version: 1 });
      expect(await balanceOf(yen.wallet.walletId)).toEqual({ balance: "0", version: 0 });
    });

    it("wallet-not-found, transfer-not-found, transaction-not-found: 404", async () => {
      const o = await newOwner();
      const t = await operator();
      for (const path of [
        `${API}/wallets/${UNKNOWN_ID}`,
        `${API}/wallets/${UNKNOWN_ID}/transactions`,
        `${API}/wallets/${UNKNOWN_ID}/audit`,
        `${API}/wallets/${UNKNOWN_ID}/balance/historical?timestamp=2020-01-01T00:00:00Z`,
      ]) {
        expectProblem(await api("GET", path, { token: t }), "wallet-not-found");
      }
      expectProblem(
        await api("POST", `${API}/wallets/${UNKNOWN_ID}/deposit`, { token: t, body: { amount: "1" } }),
        "wallet-not-found",
      );
      expectProblem(await api("GET", `${API}/transfers/${UNKNOWN_ID}`, { token: t }), "transfer-not-found");
      expectProblem(
        await api("GET", `${API}/wallets/${o.wallet.walletId}/transactions/${UNKNOWN_ID}`, { token: t }),
        "transaction-not-found",
      );
    });

    it("timestamp-in-future and idempotency-key-reused: 422", async () => {
      const o = await newOwner();
      const future = new Date(Date.now() + 3600_000).toISOString();
      expectProblem(
        await api("GET", `${API}/wallets/${o.wallet.walletId}/balance/historical?timestamp=${future}`, {
          token: o.token,
        }),
        "timestamp-in-future",
      );
      expect((await deposit(o, "1.00", { idempotencyKey: "reuse-me" })).status).toBe(201);
      expectProblem(await deposit(o, "2.00", { idempotencyKey: "reuse-me" }), "idempotency-key-reused");
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "1.00", version: 1 });
    });
  });

  describe("idempotency", () => {
    it("the same key and request replay the stored response byte for byte with Idempotency-Replayed: true", async () => {
      const o = await newOwner();
      const first = await deposit(o, "7.25", { idempotencyKey: "pay-1", headers: { "x-request-id": "first-call" } });
      expect(first.status, first.text).toBe(201);
      expect(first.headers.get("idempotency-replayed")).toBeNull();
      for (let i = 0; i < 2; i++) {
        const again = await deposit(o, "7.25", { idempotencyKey: "pay-1", headers: { "x-request-id": `retry-${i}` } });
        expect(again.status).toBe(201);
        expect(again.text).toBe(first.text);
        expect(again.headers.get("idempotency-replayed")).toBe("true");
        expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
        expect(again.headers.get("location")).toBe(first.headers.get("location"));
        expect(again.headers.get("x-request-id")).toBe(`retry-${i}`);
      }
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "7.25", version: 1 });
    });

    it("replays wallet creation and transfers without doing them twice", async () => {
      const userId = newUserId();
      const t = await tok(userId);
      const created = await api("POST", `${API}/wallets`, { token: t, body: { userId }, idempotencyKey: "open" });
      expect(created.status).toBe(201);
      const again = await api("POST", `${API}/wallets`, { token: t, body: { userId }, idempotencyKey: "open" });
      expect([again.status, again.text, again.headers.get("location")]).toEqual([
        201,
        created.text,
        created.headers.get("location"),
      ]);
      expect(again.headers.get("idempotency-replayed")).toBe("true");
      // Same key, different request: 422 idempotency-key-reused wins over 409 wallet-already-exists.
      expectProblem(
        await api("POST", `${API}/wallets`, { token: t, body: { userId, currency: "EUR" }, idempotencyKey: "open" }),
        "idempotency-key-reused",
      );

      const alice = await funded("50.00");
      const bob = await newOwner();
      const body = { fromWalletId: alice.wallet.walletId, toWalletId: bob.wallet.walletId, amount: "20.00" };
      const sent = await api("POST", `${API}/wallets/transfer`, { token: alice.token, body, idempotencyKey: "tx-1" });
      expect(sent.status, sent.text).toBe(201);
      const resent = await api("POST", `${API}/wallets/transfer`, { token: alice.token, body, idempotencyKey: "tx-1" });
      expect([resent.status, resent.text, resent.headers.get("idempotency-replayed")]).toEqual([
        201,
        sent.text,
        "true",
      ]);
      expect(await balanceOf(alice.wallet.walletId)).toEqual({ balance: "30.00", version: 2 });
      expect(await balanceOf(bob.wallet.walletId)).toEqual({ balance: "20.00", version: 1 });
    });

    it("a stored business refusal (422 insufficient-funds, 409 wallet-already-exists) is replayed as stored", async () => {
      const o = await funded("1.00");
      const path = `${API}/wallets/${o.wallet.walletId}/withdraw`;
      const refused = await api("POST", path, { token: o.token, body: { amount: "5.00" }, idempotencyKey: "w-1" });
      expectProblem(refused, "insufficient-funds");
      expect((await deposit(o, "10.00")).status).toBe(201);
      const replay = await api("POST", path, {
        token: o.token,
        body: { amount: "5.00" },
        idempotencyKey: "w-1",
        headers: { "x-request-id": "a-later-retry" },
      });
      expect(replay.status).toBe(422);
      expect(replay.text).toBe(refused.text); // including the original requestId
      expect(replay.headers.get("idempotency-replayed")).toBe("true");
      expect(replay.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "11.00", version: 2 });

      const exists = await api("POST", `${API}/wallets`, {
        token: o.token,
        body: { userId: o.userId },
        idempotencyKey: "dup-create",
      });
      expectProblem(exists, "wallet-already-exists");
      const existsAgain = await api("POST", `${API}/wallets`, {
        token: o.token,
        body: { userId: o.userId },
        idempotencyKey: "dup-create",
      });
      expect([existsAgain.status, existsAgain.text, existsAgain.headers.get("idempotency-replayed")]).toEqual([
        409,
        exists.text,
        "true",
      ]);
    });

    it('the request is compared after parsing: 10.50 and 10.5 are one number, 10.5 and "10.50" differ', async () => {
      const o = await newOwner();
      const path = `${API}/wallets/${o.wallet.walletId}/deposit`;
      const send = (body: string, key: string) => api("POST", path, { token: o.token, body, idempotencyKey: key });
      const a = await send('{"amount":10.5}', "k-num");
      expect(a.status, a.text).toBe(201);
      const b = await send('{"amount":10.50}', "k-num");
      expect([b.status, b.text, b.headers.get("idempotency-replayed")]).toEqual([201, a.text, "true"]);
      const c = await send('{ "amount" : 10.50 }', "k-num");
      expect([c.status, c.text]).toEqual([201, a.text]);
      expectProblem(await send('{"amount":"10.50"}', "k-num"), "idempotency-key-reused");
      expectProblem(await send('{"amount":"10.5"}', "k-num"), "idempotency-key-reused");

      const d = await send('{"amount":"2.00","reference":"x"}', "k-order");
      expect(d.status).toBe(201);
      const e = await send('{"reference":"x","amount":"2.00"}', "k-order");
      expect([e.status, e.text, e.headers.get("idempotency-replayed")]).toEqual([201, d.text, "true"]);
      expectProblem(await send('{"reference":"y","amount":"2.00"}', "k-order"), "idempotency-key-reused");
      expectProblem(await send('{"amount":"2.00"}', "k-order"), "idempotency-key-reused");
      // A different path with the same key and body is a different request.
      expectProblem(
        await api("POST", `${API}/wallets/${o.wallet.walletId}/withdraw`, {
          token: o.token,
          body: '{"amount":"2.00","reference":"x"}',
          idempotencyKey: "k-order",
        }),
        "idempotency-key-reused",
      );
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "12.50", version: 2 });
    });

    it("a JSON number is its value however it is written: 1e2 is 100.00, and a replay of 100 with the same key", async () => {
      const o = await newOwner();
      const path = `${API}/wallets/${o.wallet.walletId}/deposit`;
      const send = (body: string) => api("POST", path, { token: o.token, body, idempotencyKey: "k-exp" });
      const first = await send('{"amount":1e2}');
      expect(first.status, first.text).toBe(201);
      expect(first.body).toMatchObject({ amount: "100.00" });
      const again = await send('{"amount":100.000000}');
      expect([again.status, again.text, again.headers.get("idempotency-replayed")]).toEqual([201, first.text, "true"]);
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "100.00", version: 1 });
    });

    it("a key of 255 printable ASCII characters is accepted and replays", async () => {
      const o = await newOwner();
      const key = `${" !~".repeat(85)}`;
      expect(key.length).toBe(255);
      const first = await deposit(o, "1.00", { idempotencyKey: key });
      expect(first.status, first.text).toBe(201);
      const again = await deposit(o, "1.00", { idempotencyKey: key });
      expect([again.status, again.text, again.headers.get("idempotency-replayed")]).toEqual([201, first.text, "true"]);
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "1.00", version: 1 });
    });

    it("keys are scoped to the principal: the same key from different key-holders is independent", async () => {
      const alice = await newOwner();
      const bob = await newOwner();
      const a = await deposit(alice, "1.00", { idempotencyKey: "shared-key" });
      const b = await deposit(bob, "1.00", { idempotencyKey: "shared-key" });
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.headers.get("idempotency-replayed")).toBeNull();
      // An operator repeating alice's exact request with alice's key is a new request of its own.
      const op = await deposit(alice, "1.00", { idempotencyKey: "shared-key", token: await operator() });
      expect(op.status, op.text).toBe(201);
      expect(op.headers.get("idempotency-replayed")).toBeNull();
      expect(op.body.transactionId).not.toBe(a.body.transactionId);
      expect(await balanceOf(alice.wallet.walletId)).toEqual({ balance: "2.00", version: 2 });
      expect(await balanceOf(bob.wallet.walletId)).toEqual({ balance: "1.00", version: 1 });
    });

    it("failures before the operation ran (400, 401, 403, 413, 415, 422 amount-precision) are not stored: the key still works", async () => {
      const o = await newOwner();
      const other = await newOwner();
      const path = `${API}/wallets/${o.wallet.walletId}/deposit`;
      const key = "retry-after-fixing";
      expectProblem(
        await api("POST", path, { token: o.token, body: { amount: "1.005" }, idempotencyKey: key }),
        "amount-precision",
      );
      expectProblem(
        await api("POST", path, { token: o.token, body: { amount: "1.00001" }, idempotencyKey: key }),
        "invalid-amount",
      );
      expectProblem(
        await api("POST", path, { token: o.token, body: { amount: "1.00", memo: 1 }, idempotencyKey: key }),
        "validation-error",
      );
      expectProblem(await api("POST", path, { token: o.token, body: "{", idempotencyKey: key }), "malformed-json");
      expectProblem(await api("POST", path, { body: { amount: "1.00" }, idempotencyKey: key }), "unauthenticated");
      expectProblem(
        await api("POST", path, { token: "not.a.jwt", body: { amount: "1.00" }, idempotencyKey: key }),
        "unauthenticated",
      );
      expectProblem(
        await api("POST", path, {
          token: o.token,
          body: JSON.stringify({ amount: "1.00" }),
          headers: { "content-type": "text/plain" },
          idempotencyKey: key,
        }),
        "unsupported-media-type",
      );
      expectProblem(
        await api("POST", path, {
          token: o.token,
          body: { amount: "1.00", reference: "x".repeat(20_000) },
          idempotencyKey: key,
        }),
        "payload-too-large",
      );
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "0.00", version: 0 });
      const fixed = await api("POST", path, { token: o.token, body: { amount: "1.00" }, idempotencyKey: key });
      expect(fixed.status, fixed.text).toBe(201);
      expect(fixed.headers.get("idempotency-replayed")).toBeNull();
      const replay = await api("POST", path, { token: o.token, body: { amount: "1.00" }, idempotencyKey: key });
      expect([replay.status, replay.text, replay.headers.get("idempotency-replayed")]).toEqual([
        201,
        fixed.text,
        "true",
      ]);

      // 403: another user's attempt with a key does not burn that key for their own wallet.
      expectProblem(await deposit(o, "1.00", { token: other.token, idempotencyKey: "k-403" }), "forbidden");
      const own = await deposit(other, "1.00", { idempotencyKey: "k-403" });
      expect(own.status, own.text).toBe(201);
      expect(own.headers.get("idempotency-replayed")).toBeNull();
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "1.00", version: 1 });
    });

    it("concurrent requests with one key: applied exactly once; the others replay it or get 409 in-progress", async () => {
      const o = await newOwner();
      const copies = 24;
      const results = await Promise.all(
        Array.from({ length: copies }, () => deposit(o, "1.00", { idempotencyKey: "storm" })),
      );
      const originals = results.filter((r) => r.status === 201 && r.headers.get("idempotency-replayed") === null);
      const replays = results.filter((r) => r.status === 201 && r.headers.get("idempotency-replayed") === "true");
      const inProgress = results.filter((r) => r.status === 409);
      expect(originals.length, results.map((r) => `${r.status} ${r.text}`).join("\n")).toBe(1);
      expect(originals.length + replays.length + inProgress.length).toBe(copies);
      const original = originals[0] as HttpResult;
      for (const r of replays) expect(r.text).toBe(original.text);
      for (const r of inProgress) expectProblem(r, "idempotency-in-progress");
      // "At least one 409 or all replays" holds by the partition above; the money moved once.
      expect(inProgress.length > 0 || replays.length === copies - 1).toBe(true);
      expect(await balanceOf(o.wallet.walletId)).toEqual({ balance: "1.00", version: 1 });
      const after = await deposit(o, "1.00", { idempotencyKey: "storm" });
      expect([after.status, after.text, after.headers.get("idempotency-replayed")]).toEqual([
        201,
        original.text,
        "true",
      ]);
    });
  });

  describe("request ids", () => {
    it("a well-formed X-Request-Id is echoed on every response and is the requestId of problems", async () => {
      const o = await newOwner();
      const id = "Req.123_abc:XYZ-9";
      const ok = await api("GET", `${API}/wallets/${o.wallet.walletId}`, {
        token: o.token,
        headers: { "x-request-id": id },
      });
      expect(ok.headers.get("x-request-id")).toBe(id);
      const long = "a".repeat(128);
      for (const [method, path] of [
        ["GET", `${API}/wallets/${UNKNOWN_ID}`],
        ["GET", `${API}/wallets/transfer`],
        ["GET", "/nowhere"],
      ] as const) {
        const res = await api(method, path, { token: o.token, headers: { "x-request-id": long } });
        expect(res.headers.get("x-request-id")).toBe(long);
        expect(res.body.requestId).toBe(long);
      }
      const unauth = await api("GET", `${API}/wallets/${o.wallet.walletId}`, { headers: { "x-request-id": id } });
      expectProblem(unauth, "unauthenticated");
      expect(unauth.body.requestId).toBe(id);
    });

    it("a malformed X-Request-Id is replaced by a well-formed one (also generated when absent)", async () => {
      const o = await newOwner();
      for (const bad of ["has space", "a".repeat(129), "slash/inside", "semi;colon", "caf\u00e9", "<script>"]) {
        const res = await api("GET", `${API}/wallets/${UNKNOWN_ID}`, {
          token: o.token,
          headers: { "x-request-id": bad },
        });
        const echoed = res.headers.get("x-request-id") ?? "";
        expect(echoed).not.toBe(bad);
        expect(echoed).toMatch(WELL_FORMED_REQUEST_ID);
        expect(res.body.requestId).toBe(echoed);
      }
      const a = await api("GET", "/health");
      const b = await api("GET", "/health");
      expect(a.headers.get("x-request-id")).toMatch(WELL_FORMED_REQUEST_ID);
      expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
    });
  });

  describe("operations endpoints", () => {
    it("/health and /ready answer 200", async () => {
      const health = await api("GET", "/health");
      expect(health.status).toBe(200);
      const ready = await api("GET", "/ready");
      expect(ready.status).toBe(200);
    });

    it("/metrics is Prometheus text with cellwallet_http_requests_total labelled by cell and az, never by id", async () => {
      const o = await funded("1.00");
      const res = await api("GET", "/metrics");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const lines = res.text.split("\n").filter((l) => l.startsWith("cellwallet_http_requests_total{"));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).toContain('cell="cell-test"');
        expect(line).toContain('az="az-1"');
        expect(line).toMatch(/ \d+(\.\d+)?$/);
      }
      expect(res.text).toContain("# TYPE cellwallet_http_requests_total counter");
      expect(res.text).not.toContain(o.wallet.walletId);
      expect(res.text).not.toContain(o.userId);
      expect(res.text).not.toContain(UNKNOWN_ID);
    });

    it("/openapi.json is valid JSON describing every public path", async () => {
      const res = await api("GET", "/openapi.json");
      expect(res.status).toBe(200);
      expect(res.body, res.text.slice(0, 200)).toBeTypeOf("object");
      expect(String(res.body.openapi)).toMatch(/^3\./);
      expect(Object.keys(res.body.paths)).toEqual(
        expect.arrayContaining([
          "/api/v1/wallets",
          "/api/v1/wallets/transfer",
          "/api/v1/wallets/{walletId}",
          "/api/v1/wallets/{walletId}/deposit",
          "/api/v1/wallets/{walletId}/withdraw",
          "/api/v1/transfers/{transferId}",
          "/api/v1/wallets/{walletId}/balance/historical",
          "/api/v1/wallets/{walletId}/transactions",
          "/api/v1/wallets/{walletId}/transactions/{transactionId}",
          "/api/v1/wallets/{walletId}/audit",
        ]),
      );
      expect(Object.keys(res.body.paths["/api/v1/wallets"]).sort()).toEqual(["get", "post"]);
      expect(Object.keys(res.body.paths["/api/v1/wallets/transfer"])).toEqual(["post"]);
    });
  });

  it("no request of this suite was answered with a 5xx", () => {
    expect(serverErrors).toEqual([]);
  });
});
