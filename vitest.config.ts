import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources in tests.
    conditions: ["source"],
  },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["*/src/**/*.test.ts", "*/test/**/*.test.ts", "infra/*/test/**/*.test.ts"],
    globalSetup: ["test-support/global-setup.ts"],
    pool: "forks",
    // Vitest's default on 2 cores is one worker (cores - 1); most files wait on processes, sockets and timers
    // (the suite used ~1.2 of 2 cores with one), so two workers halve the wall time. Every test is built to
    // pass on a saturated machine.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
