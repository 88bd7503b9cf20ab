import { mintToken } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { freePort } from "../../test-support/moto-server.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";

/**
 * The cross-cell protocol between two real cells over HTTP. The source cell's
 * ROUTER_INTERNAL_URL points straight at the destination cell here (the router
 * forwards the same path unchanged; its own tests cover routing).
 */
const CREDIT_TIMEOUT_MS = 5000;

describe.each(ADAPTERS)("cross-cell transfers on %s", (adapter) => {
  let storeA: TestStore;
  let storeB: TestStore;
  let cellA: InProcessCell;
  let cellB: InProcessCell | undefined;
  let portB: number;
  const users = { alice: "", bob: "", yen: "", ops: "" };
  const wallets = { alice: "", bob: "", yen: "" };

  const urlB = (): string => {
    if (!cellB) throw new Error("cell B is not running");
    return cellB.url;
  };
  const startB = async () => {
    cellB = await startInProcessCell(storeB.store, { CELL_ID: "cell-b" }, portB);
  };

  beforeAll(async () => {
    const moto = inject("motoEndpoint");
    storeA = await openTestStore(adapter, moto);
    storeB = await openTestStore(adapter, moto);
    portB = await freePort();
    await startB();
    cellA = await startInProcessCell(storeA.store, {
      CELL_ID: "cell-a",
      ROUTER_INTERNAL_URL: `http://127.0.0.1:${portB}`,
      // The synchronous credit must not time out on a loaded machine (both cells share this process; on DynamoDB
      // each step is a call to the shared moto): a credit past it leaves the transfer PENDING (202), not the 201
      // the tests expect. It is also the pending-transfer worker's minimum age (the wait before the retry below).
      CROSS_CELL_CREDIT_TIMEOUT_MS: String(CREDIT_TIMEOUT_MS),
    });
    users.alice = await token("alice");
    users.bob = await token("bob");
    users.yen = await token("yen");
    users.ops = await token("ops", "wallet:operator");
    const create = async (url: string, user: keyof typeof wallets, currency = "USD") =>
      (await http(url, "POST", "/api/v1/wallets", { token: users[user], body: { userId: user, currency } })).body
        .walletId as string;
    wallets.alice = await create(cellA.url, "alice");
    wallets.bob = await create(urlB(), "bob");
    wallets.yen = await create(urlB(), "yen", "JPY");
    await http(cellA.url, "POST", `/api/v1/wallets/${wallets.alice}/deposit`, {
      token: users.ops,
      body: { amount: "100.00" },
    });
  });

  afterAll(async () => {
    await cellA?.close();
    await cellB?.close();
    await storeA?.store.close();
    await storeB?.store.close();
  });

  const balance = async (url: string, walletId: string) =>
    (await http(url, "GET", `/api/v1/wallets/${walletId}`, { token: users.ops })).body.balance as string;

  it("issues wallet and transfer ids that name the creating cell", () => {
    expect(wallets.alice.endsWith("-cell-a")).toBe(true);
    expect(wallets.bob.endsWith("-cell-b")).toBe(true);
  });

  it("debits in the source cell, credits in the destination, and answers 201 COMPLETED", async () => {
    const sent = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: users.alice,
      idempotencyKey: "x-1",
      body: { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount: "30.00", reference: "rent" },
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: "COMPLETED", amount: "30.00", reference: "rent" });
    expect(await balance(cellA.url, wallets.alice)).toBe("70.00");
    expect(await balance(urlB(), wallets.bob)).toBe("30.00");

    const replay = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: users.alice,
      idempotencyKey: "x-1",
      body: { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount: "30.00", reference: "rent" },
    });
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(sent.text);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");

    // The receiver may read the transfer from the source cell once it is completed.
    const seen = await http(cellA.url, "GET", `/api/v1/transfers/${sent.body.transferId}`, { token: users.bob });
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe("COMPLETED");
    const incoming = await http(urlB(), "GET", `/api/v1/wallets/${wallets.bob}/transactions`, {
      token: users.bob,
    });
    expect(incoming.body.items.filter((e: { transferId?: string }) => e.transferId === sent.body.transferId)).toEqual([
      expect.objectContaining({ type: "TRANSFER_IN", amount: "30.00", counterpartyWalletId: wallets.alice }),
    ]);
  });

  it.each([
    ["an unknown destination wallet", () => `${"0".repeat(26)}-cell-b`, 404, "wallet-not-found"],
    ["a destination in another currency", () => wallets.yen, 422, "currency-mismatch"],
  ])("refunds the sender when the destination refuses %s", async (_name, to, status, code) => {
    const before = await balance(cellA.url, wallets.alice);
    const sent = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: users.alice,
      body: { fromWalletId: wallets.alice, toWalletId: to(), amount: "5.00" },
    });
    expect(sent.status).toBe(status);
    expect(sent.body.code).toBe(code);
    expect(await balance(cellA.url, wallets.alice)).toBe(before);
    const transfer = await http(cellA.url, "GET", `/api/v1/transfers/${sent.body.transferId}`, { token: users.alice });
    expect(transfer.body.status).toBe("FAILED");
    const history = await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}/transactions?limit=2`, {
      token: users.alice,
    });
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(["TRANSFER_REFUND", "TRANSFER_OUT"]);
    expect(
      (await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}/audit`, { token: users.alice })).body.valid,
    ).toBe(true);
  });

  it.each([
    ["no cell in the id", () => "NOT-A-CELL-SCOPED-ID"],
    ["this cell's own id", () => `${"0".repeat(26)}-cell-a`],
  ])("answers 404 without moving money for a destination with %s", async (_name, to) => {
    const before = await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}`, { token: users.alice });
    const sent = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: users.alice,
      body: { fromWalletId: wallets.alice, toWalletId: to(), amount: "1.00" },
    });
    expect([sent.status, sent.body.code]).toEqual([404, "wallet-not-found"]);
    const after = await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}`, { token: users.alice });
    expect(after.body.version).toBe(before.body.version);
  });

  it("answers 202 PENDING while the destination is down, and the worker completes it exactly once", async () => {
    await cellB?.close();
    cellB = undefined as InProcessCell | undefined;
    const body = { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount: "7.00" };
    const sent = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: users.alice,
      idempotencyKey: "x-down",
      body,
    });
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe("PENDING");
    // Nothing to do while the destination is unreachable.
    expect(await cellA.cell.worker?.runOnce()).toBe(0);

    await startB();
    const bobBefore = await balance(urlB(), wallets.bob);
    await new Promise((r) => setTimeout(r, CREDIT_TIMEOUT_MS + 100)); // older than the worker's minimum age
    const [first, second] = await Promise.all([cellA.cell.worker?.runOnce(), cellA.cell.worker?.runOnce()]);
    expect((first ?? 0) + (second ?? 0)).toBe(1);
    expect(await cellA.cell.worker?.runOnce()).toBe(0);
    const after = await http(cellA.url, "GET", `/api/v1/transfers/${sent.body.transferId}`, { token: users.alice });
    expect(after.body.status).toBe("COMPLETED");
    expect(Number(await balance(urlB(), wallets.bob))).toBeCloseTo(Number(bobBefore) + 7, 2);

    // The stored answer was the 202 and stays the 202, byte for byte.
    const replay = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: users.alice,
      idempotencyKey: "x-down",
      body,
    });
    expect(replay.status).toBe(202);
    expect(replay.text).toBe(sent.text);
  });

  it("credits a transfer id once however often it is asked", async () => {
    const service = await mintToken({
      sub: "cell:cell-a",
      scopes: ["wallet:internal"],
      secret: "cellwallet-local-internal-secret-NOT-FOR-PRODUCTION",
    });
    const request = {
      transferId: `${"1".repeat(26)}-cell-a`,
      fromWalletId: wallets.alice,
      toWalletId: wallets.bob,
      amount: "1.00",
      currency: "USD",
      sourceCellId: "cell-a",
    };
    const url = urlB();
    const before = await balance(url, wallets.bob);
    const answers = await Promise.all(
      [1, 2, 3].map(() => http(url, "POST", "/internal/v1/transfers/credit", { token: service, body: request })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(Number(await balance(url, wallets.bob))).toBeCloseTo(Number(before) + 1, 2);
    const different = await http(url, "POST", "/internal/v1/transfers/credit", {
      token: service,
      body: { ...request, amount: "2.00" },
    });
    expect(different.status).toBe(400);
  });

  it("refuses user tokens and tokens without the internal scope on internal endpoints", async () => {
    const url = urlB();
    const asUser = await http(url, "POST", "/internal/v1/transfers/credit", { token: users.alice, body: {} });
    // A user token is authenticated but never allowed here.
    expect(asUser.status).toBe(403);
    const noScope = await mintToken({
      sub: "cell:x",
      scopes: ["wallet"],
      secret: "cellwallet-local-internal-secret-NOT-FOR-PRODUCTION",
    });
    expect((await http(url, "POST", "/internal/v1/transfers/credit", { token: noScope, body: {} })).status).toBe(403);
  });
});
