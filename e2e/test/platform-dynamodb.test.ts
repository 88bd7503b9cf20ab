import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LocalPlatform } from "../../control-plane/src/local/local-platform.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";

/** The local platform with every store on DynamoDB (moto): cells' ledgers and the placement registry. */
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

  it("places, deposits and transfers across cells", async () => {
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
    const deadline = Date.now() + 20_000;
    let status = sent.body.status;
    while (status === "PENDING" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await http(api, "GET", `/api/v1/transfers/${sent.body.transferId}`, { token: dora })).body.status;
    }
    expect(status).toBe("COMPLETED");
    expect((await http(api, "GET", `/api/v1/wallets/${a.body.walletId}`, { token: dora })).body.balance).toBe("5.00");
    expect((await http(api, "GET", `/api/v1/wallets/${b.body.walletId}`, { token: eve })).body.balance).toBe("4.00");
  }, 60_000);
});
