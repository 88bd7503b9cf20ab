import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";
import { type FuzzResult, runSchemathesis, type TransferWallets } from "./schemathesis-runner.js";

/**
 * The published contract (docs/openapi.json) checked from outside by Schemathesis, a fuzzer no one here wrote:
 * all checks (no 5xx; responses, statuses, headers and content types as documented; schema-valid requests
 * accepted, schema-invalid ones refused with a 4xx), positive and negative data, and the stateful phase that
 * follows the document's links. Against a cell process and against the router of a running platform. Transfers
 * go between wallets made for the run (cellwallet_hooks.py), so that they, and the transfer reads they link to,
 * reach the money logic rather than 404.
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
  // It reached the core logic: no operation answered only 401/403 or only 404 (before the transfer wallets
  // below, every transfer was 404 and GET /transfers/{transferId} was never reached with a real id).
  expect(result.output).not.toContain("Authentication failed");
  expect(result.output).not.toContain("Missing test data");
}

/** The token's user is the fuzzer: its own funded wallet sends, other users' wallets (one in EUR) receive. */
const FUZZ_USER = "fuzz-ops";

async function transferWallets(baseUrl: string, bearer: string): Promise<TransferWallets> {
  const create = async (userId: string, currency: string) => {
    const res = await http(baseUrl, "POST", "/api/v1/wallets", { token: bearer, body: { userId, currency } });
    expect(res.status, res.text).toBe(201);
    return res.body.walletId as string;
  };
  const payer = await create(FUZZ_USER, "USD");
  for (let i = 0; i < 3; i++) {
    const res = await http(baseUrl, "POST", `/api/v1/wallets/${payer}/deposit`, {
      token: bearer,
      body: { amount: "1000000000.00" },
    });
    expect(res.status, res.text).toBe(201);
  }
  return {
    payer,
    payees: [
      await create("fuzz-payee-1", "USD"),
      await create("fuzz-payee-2", "USD"),
      await create("fuzz-payee-3", "EUR"),
    ],
  };
}

describe("Schemathesis against the published OpenAPI document", () => {
  let cell: CellProcess;
  let platform: LocalPlatform;
  let fuzzToken: string;

  beforeAll(async () => {
    // The wallet scope as well: only an owner may transfer out of a wallet.
    fuzzToken = await token(FUZZ_USER, "wallet wallet:operator wallet:auditor");
    // One after the other: the cell's free port is then chosen while the platform's ports are already bound.
    platform = await startTestPlatform({ cells: 2, azs: ["az-1"] });
    // Through the router, transfers go both within a cell and across cells (201, or 202 while the credit runs).
    const placement = platform.openPlacementStore();
    for (const [user, cellId] of [
      [FUZZ_USER, "cell-1"],
      ["fuzz-payee-1", "cell-1"],
      ["fuzz-payee-2", "cell-2"],
      ["fuzz-payee-3", "cell-2"],
    ] as const) {
      await placement.setOverride(user, cellId);
    }
    await placement.close();
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

  /** Fuzzes baseUrl; then the payer's history shows that generated transfers really moved money. */
  async function fuzz(baseUrl: string): Promise<void> {
    const transfers = await transferWallets(baseUrl, fuzzToken);
    expectClean(await runSchemathesis({ baseUrl, token: fuzzToken, maxExamples: examples, seed, transfers }));
    let sent = 0;
    let cursor = "";
    do {
      const path = `/api/v1/wallets/${transfers.payer}/transactions?limit=200${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await http(baseUrl, "GET", path, { token: fuzzToken });
      expect(page.status, page.text).toBe(200);
      sent += (page.body.items as { type: string }[]).filter((t) => t.type === "TRANSFER_OUT").length;
      cursor = page.body.nextCursor ?? "";
    } while (cursor);
    expect(sent).toBeGreaterThan(0);
  }

  it("finds nothing against a cell", () => fuzz(cell.url), budgetMs);

  it("finds nothing against the router of a running platform", () => fuzz(platform.routerUrl("az-1")), budgetMs);
});
