/**
 * The router in front of real cells: two cells (cell-a, cell-b), each one
 * cell-service process per AZ (az-1, az-2) on a shared SQLite file, and
 * in-process routers on loopback ports reading a SQLite placement store.
 */
import { Writable } from "node:stream";
import {
  cellHint,
  cellScopedId,
  DEVELOPMENT_INTERNAL_SECRET,
  INTERNAL_CREDIT_PATH,
  mintToken,
} from "@cellwallet/contract";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { http } from "../../test-support/http.js";
import { freePort } from "../../test-support/moto-server.js";
import { token } from "../../test-support/tokens.js";
import {
  apiRequestsServed,
  type CellReplicas,
  metricSum,
  type RouterUnderTest,
  registerCell,
  startCell,
  startHangingServer,
  startRouter,
  tempDir,
  waitFor,
} from "./support.js";

const ULID = "01JD3F6V6Y0M6X8Y9Z0A1B2C3D";
const API = "/api/v1";

let cellA: CellReplicas;
let cellB: CellReplicas;
let store: SqlitePlacementStore;
let router: RouterUnderTest;
const logLines: string[] = [];

const logSink = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  },
});

async function createWallet(userId: string, as = userId) {
  const res = await http(router.url, "POST", `${API}/wallets`, { token: await token(as), body: { userId } });
  if (res.status !== 201) throw new Error(`create ${userId}: ${res.status} ${res.text}`);
  return res.body.walletId as string;
}

async function totalUsers(): Promise<number> {
  return (await store.listCells()).reduce((sum, c) => sum + c.users, 0);
}

beforeAll(async () => {
  const routerPort = await freePort();
  // Cells reach each other (cross-cell credits) only through the router.
  const cellEnv = { ROUTER_INTERNAL_URL: `http://127.0.0.1:${routerPort}` };
  [cellA, cellB] = await Promise.all([
    startCell("cell-a", ["az-1", "az-2"], cellEnv),
    startCell("cell-b", ["az-1", "az-2"], cellEnv),
  ]);
  store = new SqlitePlacementStore({ path: `${tempDir()}/placement.sqlite` });
  await registerCell(store, "cell-a", cellA.endpoints());
  await registerCell(store, "cell-b", cellB.endpoints());
  router = await startRouter(store, { LOG_LEVEL: "info" }, { port: routerPort, logTo: logSink });
});

afterAll(async () => {
  await router?.close();
  await Promise.all([cellA?.stop(), cellB?.stop()]);
  await store?.close();
});

describe("cell router: serving the public API", () => {
  it("serves health, readiness and metrics labelled with its AZ", async () => {
    expect((await http(router.url, "GET", "/health")).status).toBe(200);
    expect((await http(router.url, "GET", "/ready")).body).toEqual({ status: "ready" });
    const metrics = await http(router.url, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("cellwallet_router_requests_total");
    expect(metrics.text).toMatch(/cellwallet_router_endpoint_healthy\{[^}]*cell="cell-a"[^}]*\} 1/);
    for (const line of metrics.text.split("\n")) {
      if (line.startsWith("cellwallet_router_")) expect(line).toContain('az="az-1"');
    }
  });

  it("creates, deposits, reads and transfers within a cell for users placed in different cells", async () => {
    await store.setOverride("alice", "cell-a");
    await store.setOverride("alice-2", "cell-a");
    await store.setOverride("bob", "cell-b");
    const alice = await token("alice");
    const bob = await token("bob");

    const created = await http(router.url, "POST", `${API}/wallets`, {
      token: alice,
      body: { userId: "alice" },
      headers: { "x-request-id": "create-alice-1" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("x-request-id")).toBe("create-alice-1");
    const aliceWallet = created.body.walletId as string;
    expect(created.headers.get("location")).toBe(`${API}/wallets/${aliceWallet}`);
    expect(cellHint(aliceWallet)).toBe("cell-a");
    const bobWallet = await createWallet("bob");
    expect(cellHint(bobWallet)).toBe("cell-b");
    const alice2Wallet = await createWallet("alice-2");
    expect((await store.getUserPlacement("bob"))?.cellId).toBe("cell-b");

    // Each wallet lives in its own cell only (asked of the cells directly).
    const direct = async (cell: CellReplicas, walletId: string, tok: string) =>
      (await http(cell.replicas["az-1"]?.url ?? "", "GET", `${API}/wallets/${walletId}`, { token: tok })).status;
    expect(await direct(cellB, bobWallet, bob)).toBe(200);
    expect(await direct(cellA, bobWallet, bob)).toBe(404);
    expect(await direct(cellA, aliceWallet, alice)).toBe(200);

    const deposit = await http(router.url, "POST", `${API}/wallets/${aliceWallet}/deposit`, {
      token: alice,
      body: { amount: "100.00", reference: "salary" },
      idempotencyKey: "salary-1",
    });
    expect(deposit.status).toBe(201);
    expect(deposit.headers.get("idempotency-replayed")).toBeNull();
    const replay = await http(router.url, "POST", `${API}/wallets/${aliceWallet}/deposit`, {
      token: alice,
      body: { amount: "100.00", reference: "salary" },
      idempotencyKey: "salary-1",
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    expect(replay.text).toBe(deposit.text);

    // Without a key the router adds its own; the client never sees it or a "replayed".
    const bobDeposit = await http(router.url, "POST", `${API}/wallets/${bobWallet}/deposit`, {
      token: bob,
      body: { amount: "50.00" },
    });
    expect(bobDeposit.status).toBe(201);
    expect(bobDeposit.headers.get("idempotency-replayed")).toBeNull();

    const transfer = await http(router.url, "POST", `${API}/wallets/transfer`, {
      token: alice,
      body: { fromWalletId: aliceWallet, toWalletId: alice2Wallet, amount: "25.50" },
      idempotencyKey: "t-1",
    });
    expect(transfer.status).toBe(201);
    expect(transfer.body.status).toBe("COMPLETED");
    const transferId = transfer.body.transferId as string;
    expect(cellHint(transferId)).toBe("cell-a");
    const readTransfer = await http(router.url, "GET", `${API}/transfers/${transferId}`, { token: alice });
    expect(readTransfer.status).toBe(200);
    expect(readTransfer.body).toMatchObject({ transferId, status: "COMPLETED", amount: "25.50" });

    const wallet = await http(router.url, "GET", `${API}/wallets/${aliceWallet}`, { token: alice });
    expect(wallet.body).toMatchObject({ walletId: aliceWallet, balance: "74.50", version: 2 });
    const bobView = await http(router.url, "GET", `${API}/wallets/${bobWallet}`, { token: bob });
    expect(bobView.body).toMatchObject({ balance: "50.00", version: 1 });
    const list = await http(router.url, "GET", `${API}/wallets?userId=alice`, { token: alice });
    expect(list.body.items.map((w: { walletId: string }) => w.walletId)).toEqual([aliceWallet]);
    const txs = await http(router.url, "GET", `${API}/wallets/${aliceWallet}/transactions?limit=1`, { token: alice });
    expect(txs.status).toBe(200);
    expect(txs.body.items).toHaveLength(1);
    const cursor = encodeURIComponent(txs.body.nextCursor);
    const page2 = await http(router.url, "GET", `${API}/wallets/${aliceWallet}/transactions?limit=1&cursor=${cursor}`, {
      token: alice,
    });
    expect(page2.body.items[0].type).toBe("DEPOSIT");
    const tx = await http(
      router.url,
      "GET",
      `${API}/wallets/${aliceWallet}/transactions/${page2.body.items[0].transactionId}`,
      { token: alice },
    );
    expect(tx.body).toMatchObject({ amount: "100.00", reference: "salary" });
    const now = new Date().toISOString();
    const historical = await http(
      router.url,
      "GET",
      `${API}/wallets/${aliceWallet}/balance/historical?timestamp=${now}`,
      {
        token: alice,
      },
    );
    expect(historical.body).toMatchObject({ balance: "74.50", sequence: 2 });
    const audit = await http(router.url, "GET", `${API}/wallets/${aliceWallet}/audit`, { token: alice });
    expect(audit.body).toMatchObject({ valid: true, entries: 2, firstInvalidSequence: null });
  });

  it("forwards the body bytes unchanged, so cells read JSON numbers from their literal text", async () => {
    await store.setOverride("nina", "cell-b");
    const nina = await token("nina");
    const walletId = await createWallet("nina");
    const exact = await http(router.url, "POST", `${API}/wallets/${walletId}/deposit`, {
      token: nina,
      body: '{"amount": 1.10}',
    });
    expect(exact.status).toBe(201);
    expect(exact.body.amount).toBe("1.10");
    const tooPrecise = await http(router.url, "POST", `${API}/wallets/${walletId}/deposit`, {
      token: nina,
      body: '{"amount": 10.005}',
    });
    expect(tooPrecise.status).toBe(422);
    expect(tooPrecise.body.code).toBe("amount-precision");
    const big = await http(router.url, "POST", `${API}/wallets/${walletId}/deposit`, {
      token: nina,
      body: '{"amount": 123456789.99}',
    });
    expect(big.body.amount).toBe("123456789.99");
  });

  it("answers for users no cell holds without placing them, with the cells' authorisation rules", async () => {
    const nobody = await token("nobody");
    const empty = await http(router.url, "GET", `${API}/wallets?userId=nobody`, { token: nobody });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ items: [] });
    const operator = await token("ops", "wallet:operator");
    expect((await http(router.url, "GET", `${API}/wallets?userId=nobody`, { token: operator })).body).toEqual({
      items: [],
    });
    const alice = await token("alice");
    const forbidden = await http(router.url, "GET", `${API}/wallets?userId=nobody`, { token: alice });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: "forbidden", requestId: forbidden.headers.get("x-request-id") });
    const notYours = await http(router.url, "POST", `${API}/wallets`, { token: alice, body: { userId: "zed" } });
    expect(notYours.status).toBe(403);
    const invalid = await http(router.url, "POST", `${API}/wallets`, {
      token: await token("xavier"),
      body: { userId: "xavier", colour: "red" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe("validation-error");
    for (const userId of ["nobody", "zed", "xavier"]) expect(await store.getUserPlacement(userId)).toBeUndefined();
    // An operator creates a wallet for someone else: placed and created.
    const forOther = await http(router.url, "POST", `${API}/wallets`, { token: operator, body: { userId: "olga" } });
    expect(forOther.status).toBe(201);
    expect((await store.getUserPlacement("olga"))?.cellId).toBe(cellHint(forOther.body.walletId));
  });

  it("gives the cells' exact answers for ids no cell holds, wrong methods, bad tokens and big bodies", async () => {
    const alice = await token("alice");
    const unknownCell = await http(router.url, "GET", `${API}/wallets/${cellScopedId(ULID, "cell-zz")}`, {
      token: alice,
    });
    expect(unknownCell.status).toBe(404);
    expect(unknownCell.body.code).toBe("wallet-not-found");
    expect((await http(router.url, "GET", `${API}/wallets/plain-id`, { token: alice })).body.code).toBe(
      "wallet-not-found",
    );
    const transfer = await http(router.url, "GET", `${API}/transfers/${cellScopedId(ULID, "cell-a")}`, {
      token: alice,
    });
    expect(transfer.status).toBe(404);
    expect(transfer.body.code).toBe("transfer-not-found");
    const unknownPath = await http(router.url, "GET", `${API}/nothing`, { token: alice });
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.body.code).toBe("not-found");
    // A cell's own audit endpoints are not routed, even for an auditor (the cells answer them directly).
    const auditor = await token("audit-1", "wallet:auditor");
    for (const path of ["/cell/audit", "/cell/reconciliation", "/cell/checkpoints", "/cell/checkpoints/1"]) {
      const cellOnly = await http(router.url, "GET", `${API}${path}`, { token: auditor });
      expect([path, cellOnly.status, cellOnly.body.code]).toEqual([path, 404, "not-found"]);
    }
    for (const path of ["/cell/audit", "/cell/reconciliation", "/cell/checkpoints"]) {
      const direct = await http(cellA.replicas["az-1"]?.url ?? "", "GET", `${API}${path}`, { token: auditor });
      expect([path, direct.status]).toEqual([path, 200]);
    }

    const wrongMethod = await http(router.url, "GET", `${API}/wallets/transfer`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(wrongMethod.headers.get("content-type")).toBe("application/problem+json");

    const anonymous = await http(router.url, "GET", `${API}/wallets?userId=alice`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
    const forged = await http(router.url, "GET", `${API}/wallets?userId=alice`, {
      token: await token("alice", "wallet", "x".repeat(40)),
    });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe("unauthenticated");
    // The scheme is case-insensitive (RFC 9110), at the router as at the cells.
    const lower = await http(router.url, "GET", `${API}/wallets?userId=alice`, {
      headers: { authorization: `bearer ${alice}` },
    });
    expect(lower.status).toBe(200);

    const huge = await http(router.url, "POST", `${API}/wallets`, {
      token: alice,
      body: JSON.stringify({ userId: "alice", pad: "x".repeat(17_000) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe("payload-too-large");
    expect((await http(router.url, "GET", "/nowhere")).body.code).toBe("not-found");
    const api = await http(router.url, "GET", "/openapi.json");
    expect(api.status).toBe(200);
    expect(api.body.openapi).toBe("3.1.0");
  });

  it("propagates request ids and trace context and logs JSON lines without tokens", async () => {
    const alice = await token("alice");
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const res = await http(router.url, "GET", `${API}/wallets/${cellScopedId(ULID, "cell-b")}`, {
      token: alice,
      headers: { "x-request-id": "trace-me-42", traceparent },
    });
    // The 404 comes from cell-b, which saw the router's request id.
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe("trace-me-42");
    expect(res.body.requestId).toBe("trace-me-42");
    const generated = await http(router.url, "GET", `${API}/wallets?userId=alice`, {
      token: alice,
      headers: { "x-request-id": "bad id with spaces" },
    });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor(() => logLines.some((l) => l.includes("trace-me-42")), 15_000, "the access log line");
    const line = JSON.parse(logLines.find((l) => l.includes("trace-me-42")) as string);
    expect(line).toMatchObject({
      service: "cell-router",
      az: "az-1",
      requestId: "trace-me-42",
      traceparent,
      status: 404,
      route: "get-wallet",
      cellId: "cell-b",
      cellAz: "az-1",
      level: "info",
      msg: "request",
    });
    expect(line.time).toMatch(/Z$/);
    expect(logLines.join("\n")).not.toMatch(/Bearer|eyJ/);
  });

  it("places a user once and creates one wallet when 20 clients create it at the same time", async () => {
    const dora = await token("dora");
    const before = await totalUsers();
    // Two routers on the same placement store: the store, not one process, makes the placement unique.
    const second = await startRouter(store);
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          http(i % 2 === 0 ? router.url : second.url, "POST", `${API}/wallets`, {
            token: dora,
            body: { userId: "dora" },
          }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      const walletId = results.find((r) => r.status === 201)?.body.walletId;
      for (const r of results.filter((x) => x.status === 409)) {
        expect(r.body).toMatchObject({ code: "wallet-already-exists", walletId });
      }
      expect(await totalUsers()).toBe(before + 1);
      expect((await store.getUserPlacement("dora"))?.cellId).toBe(cellHint(walletId));
      const list = await http(second.url, "GET", `${API}/wallets?userId=dora`, { token: dora });
      expect(list.body.items).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("spreads new users over the cells by the control plane's policy", async () => {
    const cells = new Set<string>();
    for (const user of ["p1", "p2", "p3", "p4"]) cells.add(cellHint(await createWallet(user)) as string);
    expect([...cells].sort()).toEqual(["cell-a", "cell-b"]);
  });

  it("evacuates an AZ whose weight is 0 and returns to it when the weight comes back", async () => {
    await store.setOverride("evan", "cell-a");
    const evan = await token("evan");
    const walletId = await createWallet("evan");
    const az1 = cellA.replicas["az-1"];
    const az2 = cellA.replicas["az-2"];
    if (!az1 || !az2) throw new Error("replicas missing");
    const registryWeight = () => router.router.directory.cell("cell-a")?.endpoints.find((e) => e.az === "az-1")?.weight;

    await registerCell(store, "cell-a", cellA.endpoints({ "az-1": 0 }));
    await waitFor(() => registryWeight() === 0, 15_000, "the registry refresh");
    const [before1, before2] = [await apiRequestsServed(az1), await apiRequestsServed(az2)];
    for (let i = 0; i < 10; i++) {
      const res =
        i % 2 === 0
          ? await http(router.url, "GET", `${API}/wallets/${walletId}`, { token: evan })
          : await http(router.url, "POST", `${API}/wallets/${walletId}/deposit`, {
              token: evan,
              body: { amount: "1" },
            });
      expect(res.status).toBeLessThan(300);
    }
    expect(await apiRequestsServed(az1)).toBe(before1);
    expect(await apiRequestsServed(az2)).toBe(before2 + 10);

    await registerCell(store, "cell-a", cellA.endpoints());
    await waitFor(() => registryWeight() === 1, 15_000, "the registry refresh");
    const back1 = await apiRequestsServed(az1);
    for (let i = 0; i < 5; i++) {
      expect((await http(router.url, "GET", `${API}/wallets/${walletId}`, { token: evan })).status).toBe(200);
    }
    expect(await apiRequestsServed(az1)).toBe(back1 + 5);
    const metrics = (await http(router.url, "GET", "/metrics")).text;
    expect(
      metricSum(metrics, "cellwallet_router_cell_requests_total", { cell: "cell-a", cell_az: "az-2" }),
    ).toBeGreaterThan(0);
  });
});

describe("cell router: the internal API", () => {
  const serviceToken = (scopes = ["wallet:internal"], secret = DEVELOPMENT_INTERNAL_SECRET) =>
    mintToken({ sub: "cell:cell-a", scopes, secret, ttlSeconds: 60 });
  const credit = (toWalletId: string) => ({
    transferId: cellScopedId(ULID, "cell-a"),
    fromWalletId: cellScopedId("01JD3F6V6Y0M6X8Y9Z0A1B2C3E", "cell-a"),
    toWalletId,
    amount: "1.00",
    currency: "USD",
    sourceCellId: "cell-a",
  });

  it("accepts only service tokens with the internal scope", async () => {
    const body = credit(cellScopedId(ULID, "cell-b"));
    expect((await http(router.url, "POST", INTERNAL_CREDIT_PATH, { body })).status).toBe(401);
    const userToken = await token("alice", "wallet wallet:internal");
    expect((await http(router.url, "POST", INTERNAL_CREDIT_PATH, { token: userToken, body })).status).toBe(401);
    const noScope = await serviceToken(["wallet"]);
    const refused = await http(router.url, "POST", INTERNAL_CREDIT_PATH, { token: noScope, body });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("forbidden");
    expect((await http(router.url, "GET", INTERNAL_CREDIT_PATH)).status).toBe(405);
  });

  it("answers a definitive 404 for a receiving wallet no known cell can hold", async () => {
    const tok = await serviceToken();
    for (const toWalletId of [cellScopedId(ULID, "cell-zz"), ULID]) {
      const res = await http(router.url, "POST", INTERNAL_CREDIT_PATH, { token: tok, body: credit(toWalletId) });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("wallet-not-found");
    }
    const malformed = await http(router.url, "POST", INTERNAL_CREDIT_PATH, { token: tok, body: "{" });
    expect(malformed.status).toBe(400);
  });

  it("carries a cross-cell transfer's credit to the receiving cell", async () => {
    await store.setOverride("cora", "cell-a");
    await store.setOverride("dave", "cell-b");
    const cora = await token("cora");
    const dave = await token("dave");
    const from = await createWallet("cora");
    const to = await createWallet("dave");
    expect(
      (await http(router.url, "POST", `${API}/wallets/${from}/deposit`, { token: cora, body: { amount: "20" } }))
        .status,
    ).toBe(201);
    const transfer = await http(router.url, "POST", `${API}/wallets/transfer`, {
      token: cora,
      body: { fromWalletId: from, toWalletId: to, amount: "7.25" },
      idempotencyKey: "cross-1",
    });
    expect([201, 202]).toContain(transfer.status);
    const transferId = transfer.body.transferId as string;
    await waitFor(
      async () =>
        (await http(router.url, "GET", `${API}/transfers/${transferId}`, { token: cora })).body.status === "COMPLETED",
      // A limit: a PENDING transfer waits for the sender's worker (every 2 s), slower on a loaded machine.
      30_000,
      "the cross-cell transfer to complete",
    );
    const received = await http(router.url, "GET", `${API}/wallets/${to}`, { token: dave });
    expect(received.body.balance).toBe("7.25");
    const sent = await http(router.url, "GET", `${API}/wallets/${from}`, { token: cora });
    expect(sent.body.balance).toBe("12.75");
  });
});

describe("cell router: protecting itself and the cells", () => {
  it("rate-limits each principal with 429 and Retry-After", async () => {
    const limited = await startRouter(store, { ROUTER_RATE_LIMIT_PER_SECOND: "1", ROUTER_RATE_LIMIT_BURST: "3" });
    // The buckets refill by performance.now(): held still here, so that a worker stalled for a second between two
    // requests cannot give a token back (the refill itself is rate-limit.test.ts's, on an injected clock).
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const alice = await token("alice");
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof http>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await http(limited.url, "GET", `${API}/wallets?userId=alice`, { token: alice });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.slice(3)).toEqual([429, 429]);
      expect(last?.body.code).toBe("rate-limited");
      expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Another principal has a bucket of its own.
      const bob = await token("bob");
      expect((await http(limited.url, "GET", `${API}/wallets?userId=bob`, { token: bob })).status).toBe(200);
      const metrics = (await http(limited.url, "GET", "/metrics")).text;
      expect(metricSum(metrics, "cellwallet_router_rate_limited_total")).toBe(2);
    } finally {
      vi.useRealTimers();
      await limited.close();
    }
  });

  it("answers 503 within the deadline for a hung cell, sheds past its in-flight limit, and keeps other cells fast", async () => {
    const hung = [await startHangingServer(), await startHangingServer()];
    const hungStore = new SqlitePlacementStore({ path: `${tempDir()}/placement.sqlite` });
    // "At once" is judged against this deadline, not a stopwatch: the shed request and the other cell's requests
    // must be answered while the four hung ones still wait for it. A loaded machine may stall for seconds, so the
    // deadline leaves the ten or so loopback requests in between that much room.
    const timeoutMs = 5000;
    let hungRouter: RouterUnderTest | undefined;
    try {
      await registerCell(hungStore, "cell-a", cellA.endpoints());
      await registerCell(hungStore, "cell-h", [
        { az: "az-1", url: hung[0]?.url as string, weight: 1 },
        { az: "az-2", url: hung[1]?.url as string, weight: 1 },
      ]);
      expect((await hungStore.placeUser("alice", "cell-a", "override")).ok).toBe(true);
      expect((await hungStore.placeUser("hugo", "cell-h", "override")).ok).toBe(true);
      hungRouter = await startRouter(hungStore, {
        ROUTER_CELL_TIMEOUT_MS: String(timeoutMs),
        ROUTER_CELL_MAX_INFLIGHT: "4",
      });
      const url = hungRouter.url;
      const alice = await token("alice");
      const hugo = await token("hugo");
      const aliceWallet = (await http(url, "GET", `${API}/wallets?userId=alice`, { token: alice })).body.items[0]
        .walletId as string;
      const hugoWallet = cellScopedId(ULID, "cell-h");

      const timed = async (run: () => Promise<Awaited<ReturnType<typeof http>>>) => {
        const started = performance.now();
        const res = await run();
        return { res, ms: performance.now() - started };
      };
      // Four requests fill cell-h's in-flight limit and hang until the deadline.
      const hanging = Promise.all([
        timed(() => http(url, "GET", `${API}/wallets?userId=hugo`, { token: hugo })),
        timed(() => http(url, "GET", `${API}/wallets/${hugoWallet}`, { token: hugo })),
        timed(() =>
          http(url, "POST", `${API}/wallets/${hugoWallet}/deposit`, {
            token: hugo,
            body: { amount: "1.00" },
            idempotencyKey: "hung-1",
          }),
        ),
        timed(() => http(url, "GET", `${API}/transfers/${cellScopedId(ULID, "cell-h")}`, { token: hugo })),
      ]);
      const inflightH = () => hungRouter?.router.forwarder.inflightOf("cell-h");
      await waitFor(() => inflightH() === 4, timeoutMs, "four requests in flight");

      // A fifth request to the hung cell is shed at once: answered while the four still hang (a router that queued
      // it for a free slot could answer it only after their deadline, with fewer than four in flight).
      const shed = await http(url, "GET", `${API}/wallets/${hugoWallet}`, { token: hugo });
      expect(shed.status).toBe(503);
      expect(shed.body.code).toBe("cell-unavailable");
      expect(shed.headers.get("retry-after")).toBe("1");
      expect(inflightH(), "the four hung requests still in flight when the fifth was shed").toBe(4);

      // Meanwhile another cell's users are served, every one of them while cell-h's slots are all taken: nothing
      // of cell-a's waits on the hung cell.
      for (let i = 0; i < 10; i++) {
        const fast = await http(url, "GET", `${API}/wallets/${aliceWallet}`, { token: alice });
        expect(fast.status).toBe(200);
        expect(inflightH(), `cell-h's four requests still in flight after cell-a's request ${i + 1}`).toBe(4);
      }

      for (const { res, ms } of await hanging) {
        expect(res.status).toBe(503);
        expect(res.body.code).toBe("cell-unavailable");
        expect(res.headers.get("retry-after")).toBe("1");
        // Answered at the deadline: not before it, and not left hanging (twice the deadline leaves a loaded machine
        // seconds of slack while still telling a missed deadline apart).
        expect(ms).toBeGreaterThan(timeoutMs - 100);
        expect(ms).toBeLessThan(2 * timeoutMs);
      }
      expect((hung[0]?.accepted() ?? 0) + (hung[1]?.accepted() ?? 0)).toBeGreaterThan(0);
      const metrics = (await http(url, "GET", "/metrics")).text;
      expect(metricSum(metrics, "cellwallet_router_shed_requests_total", { cell: "cell-h" })).toBe(1);
      expect(metricSum(metrics, "cellwallet_router_cell_unavailable_total", { cell: "cell-h" })).toBe(4);
      expect(
        metricSum(metrics, "cellwallet_router_cell_requests_total", { cell: "cell-h", outcome: "timeout" }),
      ).toBeGreaterThan(0);
      expect(metricSum(metrics, "cellwallet_router_cell_unavailable_total", { cell: "cell-a" })).toBe(0);
    } finally {
      await hungRouter?.close();
      await Promise.all(hung.map((h) => h.close()));
      await hungStore.close();
    }
  });
});
