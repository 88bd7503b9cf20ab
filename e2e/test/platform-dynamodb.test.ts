import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";

/**
 * The local platform with every store on DynamoDB (moto): cells' ledgers and the placement registry; and a
 * user migrated between two DynamoDB cells by `cellctl users migrate` (the flip is one TransactWriteItems).
 */
describe("the platform on DynamoDB", () => {
  let platform: LocalPlatform;
  const prefix = `e2e${Date.now().toString(36)}`;

  beforeAll(async () => {
    platform = await startTestPlatform({
      azs: ["az-1", "az-2"],
      env: {
        LOG_LEVEL: "warn",
        WALLET_STORE: "dynamodb",
        PLACEMENT_STORE: "dynamodb",
        DYNAMODB_ENDPOINT: inject("motoEndpoint"),
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        WALLET_TABLE_PREFIX: prefix,
        PLACEMENT_TABLE_PREFIX: prefix,
        CROSS_CELL_CREDIT_TIMEOUT_MS: "3000",
      },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("places, deposits and transfers across cells, then migrates a user between DynamoDB cells", async () => {
    const placement = platform.openPlacementStore();
    await placement.setOverride("dora", "cell-1");
    await placement.setOverride("eve", "cell-2");
    await placement.close();
    const api = platform.routerUrl("az-2");
    const dora = await token("dora");
    const eve = await token("eve");
    const a = await http(api, "POST", "/api/v1/wallets", { token: dora, body: { userId: "dora" } });
    const b = await http(api, "POST", "/api/v1/wallets", { token: eve, body: { userId: "eve" } });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.walletId.endsWith("-cell-1") && b.body.walletId.endsWith("-cell-2")).toBe(true);
    const ops = await token("ops", "wallet:operator");
    expect(
      (await http(api, "POST", `/api/v1/wallets/${a.body.walletId}/deposit`, { token: ops, body: { amount: "9.00" } }))
        .status,
    ).toBe(201);
    const sent = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: dora,
      idempotencyKey: "ddb-1",
      body: { fromWalletId: a.body.walletId, toWalletId: b.body.walletId, amount: "4.00" },
    });
    expect([201, 202]).toContain(sent.status);
    // A limit, not a wait: the loop ends as the transfer completes; moto on a loaded machine can take many seconds.
    const deadline = Date.now() + 45_000;
    let status = sent.body.status;
    while (status === "PENDING" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await http(api, "GET", `/api/v1/transfers/${sent.body.transferId}`, { token: dora })).body.status;
    }
    expect(status).toBe("COMPLETED");
    expect((await http(api, "GET", `/api/v1/wallets/${a.body.walletId}`, { token: dora })).body.balance).toBe("5.00");
    expect((await http(api, "GET", `/api/v1/wallets/${b.body.walletId}`, { token: eve })).body.balance).toBe("4.00");

    // Move dora (history: a deposit and a completed cross-cell transfer) to eve's cell on DynamoDB.
    const env: Record<string, string> = {
      PLACEMENT_STORE: "dynamodb",
      DYNAMODB_ENDPOINT: inject("motoEndpoint"),
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      PLACEMENT_TABLE_PREFIX: prefix,
      CELLCTL_OPERATOR: "e2e",
    };
    const moved = await runCellctl(["users", "migrate", "dora", "--to", "cell-2", "--yes", "--json"], env);
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    const outcome = JSON.parse(moved.stdout);
    expect(outcome.migration).toMatchObject({ state: "completed", sourceCellId: "cell-1", targetCellId: "cell-2" });
    // Seconds, not minutes: the pause's steps are DynamoDB calls to moto, single-threaded and the slow part on a
    // loaded machine (~1 s idle, up to ~12 s measured at load average 16: cell-service/test/migration/
    // migration-process.test.ts); the same bound as there catches a pause that grows out of hand.
    expect(outcome.pauseMs).toBeLessThan(30_000);
    const located = await runCellctl(["users", "locate", "dora", "--json"], env);
    expect(JSON.parse(located.stdout)).toMatchObject({
      placement: { cellId: "cell-2", epoch: 2 },
      wallet: { state: "active", epoch: 2, balance: "5.00", version: 2 },
      relocation: { cellId: "cell-2" },
    });
    // Through the router: same wallet id, same balance and history, chain valid in the new cell; writable there.
    const wallet = await http(api, "GET", `/api/v1/wallets/${a.body.walletId}`, { token: dora });
    expect(wallet.body).toMatchObject({ walletId: a.body.walletId, balance: "5.00", version: 2 });
    expect((await http(api, "GET", `/api/v1/wallets/${a.body.walletId}/audit`, { token: dora })).body).toMatchObject({
      valid: true,
      entries: 2,
    });
    // A replayed key from before the move is answered from the copied idempotency record, not applied again.
    const replay = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: dora,
      idempotencyKey: "ddb-1",
      body: { fromWalletId: a.body.walletId, toWalletId: b.body.walletId, amount: "4.00" },
    });
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    const sameCell = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: dora,
      idempotencyKey: "ddb-2",
      body: { fromWalletId: a.body.walletId, toWalletId: b.body.walletId, amount: "1.00" },
    });
    expect(sameCell.status).toBe(201);
    expect((await http(api, "GET", `/api/v1/wallets/${a.body.walletId}`, { token: dora })).body.balance).toBe("4.00");
    expect((await http(api, "GET", `/api/v1/wallets/${b.body.walletId}`, { token: eve })).body.balance).toBe("5.00");
    // The source copy is read-only.
    const source = `http://127.0.0.1:${platform.find("cell-1/az-1").port}`;
    const direct = await http(source, "POST", `/api/v1/wallets/${a.body.walletId}/deposit`, {
      token: ops,
      body: { amount: "1.00" },
    });
    expect(direct.status).toBe(503);
    expect(direct.headers.get("wallet-location")).toBe("cell-2");
  }, 90_000);
});
