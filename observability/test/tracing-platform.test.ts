import { randomBytes } from "node:crypto";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestPlatform, TEST_PLATFORM_ENV } from "../../e2e/test/platform.js";
import { startCellProcess } from "../../test-support/cell-process.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver, toMap } from "../../test-support/otlp-receiver.js";
import { openTestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";

/** A log line as JSON; undefined for anything else (a line still being written, a non-JSON message). */
function jsonLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

describe("tracing across cells (OpenTelemetry, OTLP/HTTP to a loopback receiver)", () => {
  let platform: LocalPlatform;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startTestPlatform({
      env: {
        ...TEST_PLATFORM_ENV,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: "100",
        // Routers keep "this wallet never moved" for the whole file: after a migration they still send the
        // wallet's requests to its old cell first, which is what makes the relocation re-forward below happen.
        ROUTER_PLACEMENT_TTL_MS: "600000",
      },
    });
    const placement = platform.openPlacementStore();
    await placement.setOverride("alice", "cell-1");
    await placement.setOverride("bob", "cell-2");
    await placement.close();
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    receiver?.server.close();
  });

  it("one cross-cell transfer through the router is one trace: router, source cell, router, destination cell", async () => {
    const api = platform.routerUrl("az-1");
    const alice = await token("alice");
    const bob = await token("bob");
    const a = await http(api, "POST", "/api/v1/wallets", { token: alice, body: { userId: "alice" } });
    const b = await http(api, "POST", "/api/v1/wallets", { token: bob, body: { userId: "bob" } });
    expect([a.status, b.status]).toEqual([201, 201]);
    const deposit = await http(api, "POST", `/api/v1/wallets/${a.body.walletId}/deposit`, {
      token: alice,
      body: { amount: "10.00" },
    });
    expect(deposit.status).toBe(201);

    const traceId = randomBytes(16).toString("hex");
    const clientSpan = randomBytes(8).toString("hex");
    const transfer = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: alice,
      headers: { traceparent: `00-${traceId}-${clientSpan}-01` },
      body: { fromWalletId: a.body.walletId, toWalletId: b.body.walletId, amount: "2.50" },
    });
    expect(transfer.status).toBe(201);
    expect(transfer.body.status).toBe("COMPLETED");

    // Everything the assertions below look at: processes export their spans in batches of their own, and a child
    // span ends (and may be sent) before its parent, so the first spans to arrive are not yet the whole trace.
    const wanted = (spans: ReceivedSpan[]) => {
      const services = spans.map((s) => `${s.resource["service.name"]}:${s.resource["cell.id"] ?? ""}`);
      const ids = new Set(spans.map((s) => s.spanId));
      const commitIn = (cell: string) =>
        spans.some((s) => s.name === "sqlite commit" && s.resource["cell.id"] === cell);
      return (
        services.filter((s) => s === "cell-router:").length >= 2 &&
        services.includes("cell-service:cell-1") &&
        services.includes("cell-service:cell-2") &&
        spans.some((s) => s.name === "cell POST /internal/v1/transfers/credit") &&
        commitIn("cell-1") &&
        commitIn("cell-2") &&
        spans.every((s) => ids.has(s.parentSpanId) || s.parentSpanId === clientSpan)
      );
    };
    const deadline = Date.now() + 20_000;
    let trace: ReceivedSpan[] = [];
    while (Date.now() < deadline) {
      trace = receiver.spans.filter((s) => s.traceId.toLowerCase() === traceId);
      if (wanted(trace)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(receiver.requests.some((r) => r.startsWith("POST /v1/traces application/json"))).toBe(true);
    expect(
      wanted(trace),
      JSON.stringify(
        trace.map((s) => [s.name, s.resource]),
        null,
        1,
      ),
    ).toBe(true);

    // One tree: the router's span continues the client's, every other span's parent is in the trace.
    const ids = new Set(trace.map((s) => s.spanId));
    const roots = trace.filter((s) => !ids.has(s.parentSpanId));
    expect(roots.map((s) => s.parentSpanId)).toEqual([clientSpan]);
    expect(roots[0]?.resource["service.name"]).toBe("cell-router");

    // The chain cell-1's credit → router → cell-2, and every span says which cell and AZ it belongs to.
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const destination = trace.find((s) => s.resource["cell.id"] === "cell-2" && s.name.startsWith("cell POST"));
    const viaRouter = destination && byId.get(destination.parentSpanId);
    const credit = viaRouter && byId.get(viaRouter.parentSpanId);
    expect(destination?.name).toBe("cell POST /internal/v1/transfers/credit");
    expect(viaRouter?.resource["service.name"]).toBe("cell-router");
    expect(viaRouter?.attributes["cell.id"]).toBe("cell-2");
    expect(credit?.name).toBe("cross-cell credit");
    expect(credit?.resource["cell.id"]).toBe("cell-1");
    for (const s of trace) {
      expect(s.resource.az ?? s.attributes.az, s.name).toMatch(/^az-[123]$/);
      expect(s.resource["cell.id"] ?? s.attributes["cell.id"], s.name).toMatch(/^cell-[12]$/);
      expect(s.resource["service.version"], s.name).toBeTruthy();
    }
    // Store calls are spans of their cell too (the embedded store's commits here).
    expect(trace.some((s) => s.name === "sqlite commit" && s.resource["cell.id"] === "cell-1")).toBe(true);
    expect(trace.some((s) => s.name === "sqlite commit" && s.resource["cell.id"] === "cell-2")).toBe(true);
  }, 60_000);

  it("a cell on DynamoDB traces its calls through the AWS SDK's instrumentation, under the request's span", async () => {
    const { store, env, cellId } = await openTestStore("dynamodb", inject("motoEndpoint"));
    await store.close();
    const cell = await startCellProcess({
      ...env,
      LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    try {
      const owner = await token("dora");
      const created = await http(cell.url, "POST", "/api/v1/wallets", { token: owner, body: { userId: "dora" } });
      expect(created.status).toBe(201);
      const traceId = randomBytes(16).toString("hex");
      const deposit = await http(cell.url, "POST", `/api/v1/wallets/${created.body.walletId}/deposit`, {
        token: owner,
        headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` },
        body: { amount: "1.00" },
      });
      expect(deposit.status).toBe(201);
      const deadline = Date.now() + 20_000;
      let trace: ReceivedSpan[] = [];
      while (Date.now() < deadline) {
        trace = receiver.spans.filter((s) => s.traceId === traceId);
        // The request's span ends (and may be exported) after the write's: wait for both.
        const ids = new Set(trace.map((s) => s.spanId));
        const write = trace.find((s) => s.name === "DynamoDB.TransactWriteItems");
        if (write && ids.has(write.parentSpanId) && trace.some((s) => s.name.startsWith("cell POST"))) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const server = trace.find((s) => s.name.startsWith("cell POST"));
      const write = trace.find((s) => s.name === "DynamoDB.TransactWriteItems");
      expect(server?.resource["cell.id"]).toBe(cellId);
      expect(write?.attributes["rpc.service"]).toBe("DynamoDB");
      expect(write?.attributes["rpc.system"]).toBe("aws-api");
      expect(write?.resource["cell.id"]).toBe(cellId);
      // Under the request's span (directly, or through the cell's own spans).
      const ids = new Set(trace.map((s) => s.spanId));
      expect(ids.has(write?.parentSpanId ?? "")).toBe(true);
      // The request's log line names the cell's own span (not the caller's), so logs and traces meet.
      const requestLog = () =>
        cell
          .output()
          .split("\n")
          .map(jsonLine) // whole JSON lines (the last may still be arriving)
          .find((l) => l?.msg === "request" && l.trace_id === traceId);
      const logDeadline = Date.now() + 10_000;
      while (!requestLog() && Date.now() < logDeadline) await new Promise((r) => setTimeout(r, 100));
      expect(requestLog()?.span_id).toBe(server?.spanId);
    } finally {
      await cell.stop();
    }
  }, 60_000);

  it("a request re-forwarded after the old cell answers Wallet-Location stays one trace (relocation re-forward)", async () => {
    const placement = platform.openPlacementStore();
    await placement.setOverride("erin", "cell-2");
    await placement.close();
    const api = platform.routerUrl("az-3");
    const erin = await token("erin");
    const created = await http(api, "POST", "/api/v1/wallets", { token: erin, body: { userId: "erin" } });
    expect(created.status).toBe(201);
    const path = `/api/v1/wallets/${created.body.walletId}`;
    // This router now caches that the wallet never moved.
    expect((await http(api, "GET", path, { token: erin })).status).toBe(200);
    const moved = await runCellctl(["users", "migrate", "erin", "--to", "cell-1", "--yes"], {
      PLACEMENT_SQLITE_PATH: platform.placementPath,
      CELLCTL_OPERATOR: "tracing-test",
    });
    expect(moved.code, moved.stderr).toBe(0);

    const traceId = randomBytes(16).toString("hex");
    const clientSpan = randomBytes(8).toString("hex");
    const read = await http(api, "GET", path, {
      token: erin,
      headers: { traceparent: `00-${traceId}-${clientSpan}-01` },
    });
    expect(read.status).toBe(200);
    expect(read.body.balance).toBe("0.00");

    const cellSpan = (spans: ReceivedSpan[], cell: string) =>
      spans.find((s) => s.resource["cell.id"] === cell && s.name.startsWith("cell GET"));
    const deadline = Date.now() + 20_000;
    let trace: ReceivedSpan[] = [];
    while (Date.now() < deadline) {
      trace = receiver.spans.filter((s) => s.traceId === traceId);
      if (cellSpan(trace, "cell-1") && cellSpan(trace, "cell-2") && trace.some((s) => !s.resource["cell.id"])) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // One router span continuing the client's, with the re-forward as an event; the old cell (which answered
    // 503 + Wallet-Location) and the new one (which answered 200) both under it.
    const routerSpans = trace.filter((s) => s.resource["service.name"] === "cell-router");
    expect(routerSpans).toHaveLength(1);
    const router = routerSpans[0];
    expect(router?.parentSpanId).toBe(clientSpan);
    const event = router?.events?.find((e) => e.name === "relocation re-forward");
    expect(toMap(event?.attributes)).toEqual({ "cellwallet.from_cell": "cell-2", "cellwallet.to_cell": "cell-1" });
    expect(cellSpan(trace, "cell-2")?.parentSpanId).toBe(router?.spanId);
    expect(cellSpan(trace, "cell-1")?.parentSpanId).toBe(router?.spanId);
  }, 60_000);

  it("a user migration by cellctl is one trace: a span per step, the cells' spans under them", async () => {
    const moved = await runCellctl(["users", "migrate", "bob", "--to", "cell-1", "--yes", "--json"], {
      PLACEMENT_SQLITE_PATH: platform.placementPath,
      CELLCTL_OPERATOR: "tracing-test",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    expect(moved.code, moved.stderr).toBe(0);
    // cellctl flushes its spans before it exits; the cells' arrive within their batch delay.
    const root = receiver.spans.find((s) => s.name === "user migration");
    expect(root?.resource["service.name"]).toBe("cellctl");
    expect(root?.attributes["cellwallet.target_cell"]).toBe("cell-1");
    const deadline = Date.now() + 20_000;
    let trace: ReceivedSpan[] = [];
    const hasCells = (spans: ReceivedSpan[]) =>
      ["cell-1", "cell-2"].every((cell) =>
        spans.some((s) => s.resource["service.name"] === "cell-service" && s.resource["cell.id"] === cell),
      );
    while (Date.now() < deadline) {
      trace = receiver.spans.filter((s) => s.traceId === root?.traceId);
      if (hasCells(trace)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const steps = trace.filter((s) => s.name.startsWith("migration ")).map((s) => s.name);
    expect(steps).toEqual(expect.arrayContaining(["migration clone", "migration freeze", "migration flip"]));
    expect(hasCells(trace)).toBe(true);
  }, 60_000);
});
