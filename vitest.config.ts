import { configDefaults, defineConfig } from "vitest/config";

/**
 * Tests by tier (vitest projects): `npm test` runs all three in one `vitest run`; `npm run test:unit` (or
 * `npx vitest run --project unit`) runs the fast tier alone in seconds, with no tool set-up.
 * - unit: pure tests beside the code (`src/**`) or under `test/unit/`: no server, process or moto;
 * - integration: everything else under a package's `test/`: real servers, processes, moto, validators;
 * - e2e: whole-platform process tests.
 * A test beside the code that needs processes or moto is listed in INTEGRATION_IN_SRC (never run as unit).
 */
const UNIT = ["*/src/**/*.test.ts", "*/test/unit/**/*.test.ts"];
const INTEGRATION_IN_SRC = [
  "store-support/src/sqlite/open-sqlite-file.test.ts",
  "store-support/src/dynamodb/dynamodb-support.test.ts",
];
const INTEGRATION = ["*/test/**/*.test.ts", "infra/*/test/**/*.test.ts", ...INTEGRATION_IN_SRC];
const E2E = ["e2e/test/**/*.test.ts"];

// One moto server per run of a tier that may use it (test-support/global-setup.ts); the unit tier needs none.
const MOTO = ["test-support/global-setup.ts"];

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources in tests.
    conditions: ["source"],
  },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    pool: "forks",
    // Vitest's default on 2 cores is one worker (cores - 1); most files wait on processes, sockets and timers
    // (the suite used ~1.2 of 2 cores with one), so two workers halve the wall time. Every test is built to
    // pass on a saturated machine. The limit is the run's, shared by all projects.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: UNIT, exclude: [...configDefaults.exclude, ...INTEGRATION_IN_SRC, "e2e/**"] },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: INTEGRATION,
          exclude: [...configDefaults.exclude, ...E2E, "*/test/unit/**"],
          globalSetup: MOTO,
        },
      },
      { extends: true, test: { name: "e2e", include: E2E, globalSetup: MOTO } },
    ],
  },
});
