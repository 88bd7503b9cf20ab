import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { freePort } from "../../test-support/moto-server.js";
import { type OtlpReceiver, startOtlpReceiver } from "../../test-support/otlp-receiver.js";
import { startTestPlatform } from "./platform.js";
import {
  BankWorkload,
  cellctl,
  cellctlEnv,
  FAULTY_CELL_ENTRY,
  reportedVersions,
  rolloutStatus,
  stepsReaching,
  writePlan,
} from "./rollout-support.js";

/**
 * A faulty version (a fixture build answering 500 to 30% of API writes without
 * applying them) rolled out across 2 cells x 3 AZs while a bank workload runs:
 * the canary's first step raises the error rate above its baseline (the same
 * cell's other AZs), the controller rolls that step back without baking and
 * aborts; later steps never run; the clients, retrying with their
 * Idempotency-Keys, lost no acknowledged operation and applied none twice.
 */
describe("rollout of a faulty version (local driver)", () => {
  let platform: LocalPlatform;
  let bank: BankWorkload;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startTestPlatform();
    bank = new BankWorkload(
      platform,
      Array.from({ length: 8 }, (_, i) => `f${i}`),
    );
    await bank.setup();
  }, 60_000);

  afterAll(async () => {
    await bank?.stop();
    await platform?.stop();
    receiver?.server.close();
  });

  it("rolls the faulty step back automatically, aborts, and the clients lose nothing", async () => {
    expect((await cellctl(platform, ["versions", "add", "faulty", "--entry", FAULTY_CELL_ENTRY])).code).toBe(0);
    const plan = writePlan(platform, "faulty", {
      version: "faulty",
      waves: [["cell-1"], ["cell-2"]],
      azOrder: ["az-1", "az-2", "az-3"],
      // The bake is long enough for the alarm to decide: 1 s of error rate above baseline + 0.1 points.
      bake: { minSeconds: 30, minRequests: 10 },
      alarms: { errorRateForSeconds: 1, windowSeconds: 2, minWindowRequests: 5, p99RatioAboveBaseline: 100 },
    });
    bank.start(9);
    await new Promise((r) => setTimeout(r, 500));
    // Traced (OTLP to a loopback receiver), as docs/observability.md shows for cellctl, and with the controller's
    // metrics, read until they show the rollback (served for ROLLOUT_METRICS_LINGER_MS after the rollout ends).
    const metricsPort = await freePort();
    const running = runCellctl(
      ["rollout", "start", "--plan", plan, "--yes", "--json", "--metrics-port", `${metricsPort}`],
      {
        ...cellctlEnv(platform),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        ROLLOUT_METRICS_LINGER_MS: "5000",
      },
    );
    let exited = false;
    void running.then(() => {
      exited = true;
    });
    let scraped = "";
    while (!exited && !/^cellwallet_rollout_status\{status="rolled-back"\} 1$/m.test(scraped)) {
      scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
        .then((r) => r.text())
        .catch(() => scraped);
      await new Promise((r) => setTimeout(r, 100));
    }
    const run = await running;
    await new Promise((r) => setTimeout(r, 500));
    await bank.stop();

    expect(run.code, run.stderr).toBe(1);
    // What RolloutRolledBack reads was there to scrape after the rollback.
    expect(scraped).toMatch(/^cellwallet_rollout_status\{status="rolled-back"\} 1$/m);
    expect(scraped).toMatch(/^cellwallet_rollout_events_total\{type="rollout.rolled-back"\} 1$/m);
    expect(run.stderr).toContain(`rollout rolled-back: serving its final metrics on :${metricsPort} for 5s`);
    expect(run.stdout, run.stderr).not.toBe("");
    const final = JSON.parse(run.stdout);
    expect(final.status).toBe("rolled-back");
    expect(final.reason).toMatch(/^alarm: error rate [\d.]+% vs baseline [\d.]+%/);
    expect(final.steps.map((s: { phase: string }) => s.phase)).toEqual([
      "rolled-back",
      "pending",
      "pending",
      "pending",
      "pending",
      "pending",
    ]);
    // Later steps never ran: only the canary's first AZ was ever deployed, then rolled back to its old version.
    expect(stepsReaching(final, "step.deploying")).toEqual(["cell-1/az-1"]);
    expect(stepsReaching(final, "step.rolled-back")).toEqual(["cell-1/az-1"]);
    expect(stepsReaching(final, "step.done")).toEqual([]);
    expect(final.steps[0].previousVersion).toBe("dev");
    // The alarm cut the 30 s bake short (the step never baked to the end), and nothing baked after the
    // rollback: told by the persisted events, not by the wall clock of a loaded machine.
    const at = (type: string) =>
      final.events.filter((e: { type: string }) => e.type === type).map((e: { at: string }) => Date.parse(e.at));
    const [bakingAt] = at("step.baking");
    const [rollingBackAt] = at("step.rolling-back");
    expect(bakingAt).toBeDefined();
    expect(rollingBackAt - bakingAt).toBeLessThan(30_000);
    expect(at("step.done")).toEqual([]);
    expect(at("step.baking")).toHaveLength(1);
    expect(Object.values(await reportedVersions(platform))).toEqual(Array(6).fill("200:dev"));
    // The faulty build did fail requests, and the clients retried them.
    expect(bank.retriesAfter5xx).toBeGreaterThan(0);
    await bank.verify();

    // One trace, flushed before cellctl exited: the rollout, and under it its step's deploy, wait for ready,
    // bake and rollback, each naming the step's cell and AZ.
    const root = receiver.spans.find((x) => x.name === "rollout");
    expect(root?.resource["service.name"]).toBe("cellctl");
    expect(root?.attributes["cellwallet.rollout_id"]).toBe(final.rolloutId);
    const steps = receiver.spans.filter((x) => x.traceId === root?.traceId && x.name !== "rollout");
    expect(new Set(steps.map((x) => x.name))).toEqual(
      new Set(["rollout deploy", "rollout wait-ready", "rollout bake", "rollout rollback"]),
    );
    for (const x of steps) {
      expect([x.attributes["cell.id"], x.attributes.az], x.name).toEqual(["cell-1", "az-1"]);
      expect(x.name === "rollout rollback" || x.parentSpanId === root?.spanId, x.name).toBe(true);
    }

    // The rollout is over: a new one may start, and status shows this one with its alarm event.
    const status = await rolloutStatus(platform, final.rolloutId);
    expect(status.events.some((e: { type: string }) => e.type === "step.rolling-back")).toBe(true);
    const audit = JSON.parse((await cellctl(platform, ["audit-log", "--json"])).stdout).records;
    expect(audit.map((r: { action: string }) => r.action)).toEqual(
      expect.arrayContaining(["rollout.start", "rollout.step.deploy", "rollout.step.rollback"]),
    );
  }, 80_000);
});
