import { ChainVerifier, minorFromFormatted } from "@cellwallet/contract";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";

/**
 * The whole platform as processes (2 cells x 3 AZs, one router per AZ), used
 * only through the router: clients never see cells.
 */
describe("the platform through the router", () => {
  let platform: LocalPlatform;
  let api: string;
  const t = { alice: "", bob: "", carol: "", ops: "", auditor: "" };
  const w = { alice: "", bob: "", carol: "" };

  beforeAll(async () => {
    platform = await startTestPlatform();
    api = platform.routerUrl("az-1");
    const placement = platform.openPlacementStore();
    // alice and carol in cell-1, bob in cell-2: same-cell and cross-cell paths.
    await placement.setOverride("alice", "cell-1");
    await placement.setOverride("carol", "cell-1");
    await placement.setOverride("bob", "cell-2");
    await placement.close();
    for (const user of ["alice", "bob", "carol"] as const) t[user] = await token(user);
    t.ops = await token("ops", "wallet:operator");
    t.auditor = await token("aud", "wallet:auditor");
    for (const user of ["alice", "bob", "carol"] as const) {
      const created = await http(api, "POST", "/api/v1/wallets", { token: t[user], body: { userId: user } });
      expect(created.status).toBe(201);
      w[user] = created.body.walletId;
    }
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("places users in the cells their overrides name", () => {
    expect(w.alice.endsWith("-cell-1")).toBe(true);
    expect(w.carol.endsWith("-cell-1")).toBe(true);
    expect(w.bob.endsWith("-cell-2")).toBe(true);
  });

  it("serves every endpoint for users of both cells", async () => {
    const deposit = await http(api, "POST", `/api/v1/wallets/${w.alice}/deposit`, {
      token: t.alice,
      idempotencyKey: "dep-1",
      body: { amount: "100.00" },
    });
    expect(deposit.status).toBe(201);
    expect(
      (await http(api, "POST", `/api/v1/wallets/${w.bob}/deposit`, { token: t.ops, body: { amount: 50 } })).status,
    ).toBe(201);
    expect(
      (await http(api, "POST", `/api/v1/wallets/${w.alice}/withdraw`, { token: t.alice, body: { amount: "10.00" } }))
        .status,
    ).toBe(201);

    const sameCell = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: t.alice,
      body: { fromWalletId: w.alice, toWalletId: w.carol, amount: "5.00" },
    });
    expect(sameCell.status).toBe(201);
    const crossCell = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: t.alice,
      idempotencyKey: "xfer-1",
      body: { fromWalletId: w.alice, toWalletId: w.bob, amount: "20.00" },
    });
    expect(crossCell.status).toBe(201);
    expect(crossCell.body.status).toBe("COMPLETED");
    const back = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: t.bob,
      body: { fromWalletId: w.bob, toWalletId: w.alice, amount: "1.50" },
    });
    expect(back.status).toBe(201);

    const balances = async () =>
      Promise.all(
        (["alice", "bob", "carol"] as const).map(
          async (u) => (await http(api, "GET", `/api/v1/wallets/${w[u]}`, { token: t[u] })).body.balance,
        ),
      );
    expect(await balances()).toEqual(["66.50", "68.50", "5.00"]);

    expect((await http(api, "GET", "/api/v1/wallets?userId=bob", { token: t.bob })).body.items[0].walletId).toBe(w.bob);
    expect((await http(api, "GET", "/api/v1/wallets?userId=nobody", { token: t.ops })).body).toEqual({ items: [] });
    const seen = await http(api, "GET", `/api/v1/transfers/${crossCell.body.transferId}`, { token: t.bob });
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe("COMPLETED");
    const page = await http(api, "GET", `/api/v1/wallets/${w.bob}/transactions?limit=2`, { token: t.bob });
    expect(page.body.items.map((e: { type: string }) => e.type)).toEqual(["TRANSFER_OUT", "TRANSFER_IN"]);
    const one = await http(api, "GET", `/api/v1/wallets/${w.bob}/transactions/${page.body.items[1].transactionId}`, {
      token: t.auditor,
    });
    expect(one.body.transferId).toBe(crossCell.body.transferId);
    const historical = await http(
      api,
      "GET",
      `/api/v1/wallets/${w.alice}/balance/historical?timestamp=${encodeURIComponent(deposit.body.createdAt)}`,
      { token: t.alice },
    );
    expect(historical.body).toMatchObject({ balance: "100.00", sequence: 1 });

    for (const u of ["alice", "bob", "carol"] as const) {
      const audit = await http(api, "GET", `/api/v1/wallets/${w[u]}/audit`, { token: t.auditor });
      expect(audit.body.valid).toBe(true);
      // Offline verification from the API alone.
      const verifier = new ChainVerifier(minorFromFormatted);
      const items = (await http(api, "GET", `/api/v1/wallets/${w[u]}/transactions?limit=200`, { token: t[u] })).body
        .items;
      for (const entry of [...items].reverse()) verifier.add(entry);
      expect(verifier.result()).toMatchObject({ valid: true, headHash: audit.body.headHash });
    }
  });

  it("replays idempotent requests through any AZ's router", async () => {
    const again = await http(platform.routerUrl("az-3"), "POST", "/api/v1/wallets/transfer", {
      token: t.alice,
      idempotencyKey: "xfer-1",
      body: { fromWalletId: w.alice, toWalletId: w.bob, amount: "20.00" },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
  });

  it("answers the cells' problems for unknown resources and bad input", async () => {
    const unknown = await http(api, "GET", `/api/v1/wallets/${"0".repeat(26)}-cell-9`, { token: t.ops });
    expect([unknown.status, unknown.body.code]).toEqual([404, "wallet-not-found"]);
    const noTransfer = await http(api, "GET", `/api/v1/transfers/${"0".repeat(26)}-cell-1`, { token: t.ops });
    expect([noTransfer.status, noTransfer.body.code]).toEqual([404, "transfer-not-found"]);
    const bad = await http(api, "POST", `/api/v1/wallets/${w.alice}/deposit`, {
      token: t.alice,
      body: { amount: "1.001" },
    });
    expect([bad.status, bad.body.code]).toEqual([422, "amount-precision"]);
    const anon = await http(api, "GET", `/api/v1/wallets/${w.alice}`);
    expect([anon.status, anon.body.code]).toEqual([401, "unauthenticated"]);
    const other = await http(api, "GET", `/api/v1/wallets/${w.alice}`, { token: t.bob });
    expect([other.status, other.body.code]).toEqual([403, "forbidden"]);
    const missingDestination = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: t.alice,
      body: { fromWalletId: w.alice, toWalletId: `${"0".repeat(26)}-cell-2`, amount: "1.00" },
    });
    expect([missingDestination.status, missingDestination.body.code]).toEqual([404, "wallet-not-found"]);
  });
});
