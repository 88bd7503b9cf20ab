import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNodeScript } from "../../test-support/cellctl.js";
import { REPO_ROOT } from "../src/paths.js";

const OBSERVE = join(REPO_ROOT, "observability/dist/observe.js");

/** `npm run observe`'s refusals, as a process (its normal run is in prometheus-platform.test.ts). */
describe("npm run observe: bad settings", () => {
  let busy: Server;
  let busyPort = 0;
  const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-observe-"));

  beforeAll(async () => {
    // Something else on the port, answering 200 to everything (as another Prometheus answers /-/ready).
    busy = createServer((_req, res) => res.writeHead(200).end("ready"));
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
    busyPort = (busy.address() as AddressInfo).port;
  });

  afterAll(() => {
    busy?.close();
  });

  it("refuses a port variable that is not a port: one line, exit 2", async () => {
    const run = await runNodeScript(OBSERVE, [], { WALLET_DATA_DIR: dataDir, PROMETHEUS_PORT: "0" });
    expect([run.code, run.stderr.trim()]).toEqual([2, "observe: PROMETHEUS_PORT must be a port number"]);
    const canary = await runNodeScript(OBSERVE, [], { WALLET_DATA_DIR: dataDir, CANARY_METRICS_PORT: "x" });
    expect([canary.code, canary.stderr.trim()]).toEqual([2, "observe: CANARY_METRICS_PORT must be a port number"]);
  });

  it("does not pass another process on PROMETHEUS_PORT for its Prometheus: one line, exit 1", async () => {
    const run = await runNodeScript(OBSERVE, [], { WALLET_DATA_DIR: dataDir, PROMETHEUS_PORT: String(busyPort) });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("Prometheus is running");
    expect(run.stderr.trim()).toBe(
      `observe: Prometheus did not start (PROMETHEUS_PORT=${busyPort}): port ${busyPort} is already in use`,
    );
  }, 30_000);
});
