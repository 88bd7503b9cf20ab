import { describe, expect, it } from "vitest";
import { localPlatformOptionsFromEnv } from "../../src/local/local-platform-options.js";

describe("npm start's settings from the environment", () => {
  it("uses the defaults when a variable is unset or empty", () => {
    const options = localPlatformOptionsFromEnv({ WALLET_DATA_DIR: "/tmp/x", LOCAL_CELLS: "", ROUTER_PORT: " " });
    expect(options).toMatchObject({
      dataDir: "/tmp/x",
      cells: 2,
      azs: ["az-1", "az-2", "az-3"],
      routerPort: 8080,
      cellBasePort: 9100,
      capacity: 100_000,
      restart: { initialMs: 500, maxMs: 30_000, resetAfterMs: 10_000 },
      // The manifests' liveness probe: every 10 s, 3 failures.
      liveness: { periodMs: 10_000, failureThreshold: 3 },
    });
  });

  it("probes liveness as asked, or not at all with LOCAL_LIVENESS_PERIOD_MS=0", () => {
    expect(
      localPlatformOptionsFromEnv({ LOCAL_LIVENESS_PERIOD_MS: "500", LOCAL_LIVENESS_FAILURES: "2" }).liveness,
    ).toEqual({ periodMs: 500, failureThreshold: 2 });
    expect(localPlatformOptionsFromEnv({ LOCAL_LIVENESS_PERIOD_MS: "0" }).liveness).toBe(false);
    expect(() => localPlatformOptionsFromEnv({ LOCAL_LIVENESS_FAILURES: "0" })).toThrow(
      'LOCAL_LIVENESS_FAILURES must be a whole number of at least 1, got "0"',
    );
  });

  it("takes usable values as given", () => {
    const options = localPlatformOptionsFromEnv({
      LOCAL_CELLS: "3",
      LOCAL_AZS: "a, b",
      ROUTER_PORT: "65534",
      LOCAL_CELL_BASE_PORT: "65514",
      LOCAL_RESTART_INITIAL_MS: "40000",
    });
    expect(options).toMatchObject({ cells: 3, azs: ["a", "b"], routerPort: 65_534, cellBasePort: 65_514 });
    // A first wait above the default cap raises the cap with it.
    expect(options.restart).toMatchObject({ initialMs: 40_000, maxMs: 40_000 });
  });

  it.each([
    [{ LOCAL_CELLS: "abc" }, 'LOCAL_CELLS must be a whole number of at least 1, got "abc"'],
    [{ LOCAL_CELLS: "0" }, 'LOCAL_CELLS must be a whole number of at least 1, got "0"'],
    [{ LOCAL_CELLS: "1.5" }, 'LOCAL_CELLS must be a whole number of at least 1, got "1.5"'],
    [{ LOCAL_CELL_CAPACITY: "-1" }, 'LOCAL_CELL_CAPACITY must be a whole number, got "-1"'],
    [{ LOCAL_AZS: "az-1,,az-2" }, 'LOCAL_AZS must name distinct AZs separated by commas, got "az-1,,az-2"'],
    [{ LOCAL_AZS: "az-1,az-1" }, 'LOCAL_AZS must name distinct AZs separated by commas, got "az-1,az-1"'],
    [{ ROUTER_PORT: "0" }, 'ROUTER_PORT must be a whole number of at least 1, got "0"'],
    [{ ROUTER_PORT: "65534" }, "ROUTER_PORT leaves no room: its processes would need ports up to 65536"],
    [
      { LOCAL_CELL_BASE_PORT: "65530" },
      "LOCAL_CELL_BASE_PORT leaves no room: its processes would need ports up to 65542",
    ],
    [
      { ROUTER_PORT: "6664" },
      'ROUTER_PORT would put a process on port 6665, which fetch refuses ("bad port"): choose other ports',
    ],
    [
      { LOCAL_CELL_BASE_PORT: "10070", LOCAL_AZS: "az-1" },
      'LOCAL_CELL_BASE_PORT would put a process on port 10080, which fetch refuses ("bad port"): choose other ports',
    ],
    [{ LOCAL_RESTART_INITIAL_MS: "0" }, 'LOCAL_RESTART_INITIAL_MS must be a whole number of at least 1, got "0"'],
    [
      { LOCAL_RESTART_INITIAL_MS: "1000", LOCAL_RESTART_MAX_MS: "500" },
      'LOCAL_RESTART_MAX_MS must be a whole number of at least 1000, got "500"',
    ],
  ])("refuses %o with one line naming the variable", (env, message) => {
    expect(() => localPlatformOptionsFromEnv(env)).toThrow(new Error(message));
  });
});
