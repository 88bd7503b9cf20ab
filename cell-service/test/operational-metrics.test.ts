import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { ADAPTERS, openTestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";

/** The value of one sample line (`name{labels} value`) whose name and labels contain every given fragment. */
function sample(text: string, ...fragments: string[]): number | undefined {
  const line = text.split("\n").find((l) => !l.startsWith("#") && fragments.every((f) => l.includes(f)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe.each(ADAPTERS)("operational metrics of a cell on %s", (adapter) => {
  let cell: InProcessCell;
  let metrics = "";

  beforeAll(async () => {
    const { store, cellId } = await openTestStore(adapter, inject("motoEndpoint"));
    cell = await startInProcessCell(store, { CELL_ID: cellId, CHECKPOINT_INTERVAL_MS: "600000" });
    const alice = await token("alice");
    const created = await http(cell.url, "POST", "/api/v1/wallets", { token: alice, body: { userId: "alice" } });
    expect(created.status).toBe(201);
    const wallet = created.body.walletId as string;
    const deposit = { token: alice, idempotencyKey: "dep-1", body: { amount: "5.00" } };
    expect((await http(cell.url, "POST", `/api/v1/wallets/${wallet}/deposit`, deposit)).status).toBe(201);
    const replay = await http(cell.url, "POST", `/api/v1/wallets/${wallet}/deposit`, deposit);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    const tooMuch = await http(cell.url, "POST", `/api/v1/wallets/${wallet}/withdraw`, {
      token: alice,
      body: { amount: "50.00" },
    });
    expect(tooMuch.body.code).toBe("insufficient-funds");
    metrics = await (await fetch(`${cell.url}/metrics`)).text();
  });

  afterAll(async () => {
    await cell?.close();
    await cell?.cell.deps.store.close();
  });

  it("counts idempotent replays and refusals by problem code", () => {
    expect(sample(metrics, "cellwallet_wallet_operations_total{", 'type="deposit"', 'outcome="ok"')).toBe(1);
    expect(sample(metrics, "cellwallet_wallet_operations_total{", 'type="deposit"', 'outcome="replayed"')).toBe(1);
    expect(sample(metrics, "cellwallet_wallet_refusals_total{", 'type="withdraw"', 'code="insufficient-funds"')).toBe(
      1,
    );
  });

  it("times the store's commits", () => {
    if (adapter === "sqlite") {
      // create-wallet, deposit, the refused withdrawal (stored for idempotency too): at least three group commits.
      expect(sample(metrics, "cellwallet_sqlite_commit_duration_seconds_count")).toBeGreaterThanOrEqual(3);
      expect(sample(metrics, "cellwallet_sqlite_transaction_duration_seconds_count")).toBeGreaterThanOrEqual(3);
      expect(sample(metrics, "cellwallet_sqlite_commit_operations_sum")).toBeGreaterThanOrEqual(3);
    } else {
      expect(
        sample(metrics, "cellwallet_dynamodb_call_duration_seconds_count", 'operation="TransactWriteItems"'),
      ).toBeGreaterThanOrEqual(2);
      // At 0 from the operation's first call (a series born at 1 would hide the first throttle from rate()).
      expect(sample(metrics, "cellwallet_dynamodb_throttles_total{", 'operation="TransactWriteItems"')).toBe(0);
      expect(sample(metrics, "cellwallet_dynamodb_sdk_retries_total{", 'operation="TransactWriteItems"')).toBe(0);
    }
  });

  it("reads pending transfers and the checkpoint age from the store at each scrape", () => {
    expect(sample(metrics, "cellwallet_cross_cell_transfers_pending{")).toBe(0);
    expect(sample(metrics, "cellwallet_cross_cell_transfer_oldest_pending_age_seconds{")).toBe(0);
    const age = sample(metrics, "cellwallet_checkpoint_age_seconds{");
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    expect(sample(metrics, "cellwallet_checkpoint_interval_seconds{")).toBe(600);
    expect(sample(metrics, "cellwallet_verification_interval_seconds{")).toBe(0);
  });

  it("exports the event-loop lag and labels every series with cell and az", () => {
    expect(sample(metrics, "nodejs_eventloop_lag_p99_seconds{")).toBeGreaterThanOrEqual(0);
    for (const line of metrics.split("\n").filter((l) => l.length > 0 && !l.startsWith("#"))) {
      expect(line).toMatch(/cell="[^"]+"/);
      expect(line).toMatch(/az="az-1"/);
    }
  });
});
