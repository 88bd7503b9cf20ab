import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";
import { type FuzzResult, runSchemathesis } from "./schemathesis-runner.js";

/**
 * The published contract (docs/openapi.json) checked from outside by Schemathesis, a fuzzer no one here wrote:
 * all checks (no 5xx; responses, statuses, headers and content types as documented; schema-valid requests
 * accepted, schema-invalid ones refused with a 4xx), positive and negative data, and the stateful phase that
 * follows the document's links. Against a cell process and against the router of a running platform.
 * CI runs a fixed seed and a small example count; `npm run fuzz:api` runs the same with more
 * (CELLWALLET_FUZZ_EXAMPLES, CELLWALLET_FUZZ_SEED).
 */
const examples = Number(process.env.CELLWALLET_FUZZ_EXAMPLES ?? 12);
const seed = Number(process.env.CELLWALLET_FUZZ_SEED ?? 20261205);
const budgetMs = Math.max(120_000, examples * 20_000);

function expectClean(result: FuzzResult): void {
  // The whole report on failure: the curl lines reproduce each finding.
  if (result.exitCode !== 0 || result.failures !== 0) throw new Error(result.output);
  expect(result.failures).toBe(0);
  // It really ran: every operation, every phase, and every generated case passed.
  expect(result.output).toContain("Tested: 11");
  for (const phase of ["Examples", "Coverage", "Fuzzing", "Stateful"]) expect(result.output).toContain(`✅ ${phase}`);
  expect(result.generated).toBeGreaterThan(300);
  expect(result.passed).toBe(result.generated);
}

describe("Schemathesis against the published OpenAPI document", () => {
  let cell: CellProcess;
  let platform: LocalPlatform;
  let fuzzToken: string;

  beforeAll(async () => {
    fuzzToken = await token("fuzz-ops", "wallet:operator wallet:auditor");
    // One after the other: the cell's free port is then chosen while the platform's ports are already bound.
    platform = await startTestPlatform({ cells: 2, azs: ["az-1"] });
    cell = await startCellProcess({
      CELL_ID: "cell-fuzz",
      WALLET_STORE: "sqlite",
      WALLET_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "cellwallet-fuzz-")), "ledger.sqlite"),
    });
  }, 120_000);

  afterAll(async () => {
    await cell?.stop();
    await platform?.stop();
  });

  it(
    "finds nothing against a cell",
    async () =>
      expectClean(await runSchemathesis({ baseUrl: cell.url, token: fuzzToken, maxExamples: examples, seed })),
    budgetMs,
  );

  it(
    "finds nothing against the router of a running platform",
    async () =>
      expectClean(
        await runSchemathesis({ baseUrl: platform.routerUrl("az-1"), token: fuzzToken, maxExamples: examples, seed }),
      ),
    budgetMs,
  );
});
