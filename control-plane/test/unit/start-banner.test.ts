import { describe, expect, it } from "vitest";
import { localPlatformOptionsFromEnv } from "../../src/local/local-platform-options.js";
import { startBanner } from "../../src/local/start-banner.js";

const routers = (port: number) => [0, 1, 2].map((i) => `http://127.0.0.1:${port + i}`);

describe("npm start's banner", () => {
  it("shows plain cellctl commands on the defaults", () => {
    const banner = startBanner(localPlatformOptionsFromEnv({}), routers(8080), {});
    expect(banner).toContain("Token:    TOKEN=$(npx cellctl token --sub alice)\n");
    expect(banner).toContain("Rollout:  npx cellctl versions add v2");
    expect(banner).not.toContain("cellctl:");
  });

  it("carries the variables it was started with into every cellctl command it shows (ops audit finding 8)", () => {
    // Copied without them, cellctl opened another registry and the canary tested whatever answered on 8080.
    const env = { WALLET_DATA_DIR: "/tmp/my data", ROUTER_PORT: "63100", LOCAL_CELL_BASE_PORT: "63200" };
    const banner = startBanner(localPlatformOptionsFromEnv(env), routers(63100), env);
    const cellctl = "WALLET_DATA_DIR='/tmp/my data' ROUTER_PORT=63100 npx cellctl";
    expect(banner).toContain(`Token:    TOKEN=$(${cellctl} token --sub alice)\n`);
    expect(banner).toContain(
      `Rollout:  ${cellctl} versions add v2 --entry <build>/cell-service/dist/main.js && ${cellctl} rollout start`,
    );
    expect(banner).toContain(
      `cellctl:  finds this platform by the same variables, in every shell: ${cellctl} cells list`,
    );
    expect(banner).toContain("API:      http://localhost:63100/api/v1");
    expect(banner).not.toContain("LOCAL_CELL_BASE_PORT"); // cellctl does not read it
  });

  it("names a relative WALLET_DATA_DIR resolved, and a custom secret without printing it", () => {
    const env = { WALLET_DATA_DIR: "rel-data", WALLET_JWT_SECRET: "a-secret-of-more-than-thirty-two-characters" };
    const options = localPlatformOptionsFromEnv(env);
    const banner = startBanner(options, routers(8080), env);
    expect(banner).toContain(`TOKEN=$(WALLET_DATA_DIR=${options.dataDir} npx cellctl token --sub alice)`);
    expect(options.dataDir.startsWith("/")).toBe(true);
    expect(banner).toContain("cellctl token needs the same WALLET_JWT_SECRET");
    expect(banner).not.toContain(env.WALLET_JWT_SECRET);
  });
});
