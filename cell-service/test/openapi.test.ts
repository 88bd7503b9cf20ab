import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openApiText } from "../src/adapters/http/openapi-document.js";

describe("OpenAPI document", () => {
  it("is committed in docs/openapi.json exactly as the routes generate it (run `npm run openapi`)", () => {
    const committed = readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8");
    expect(committed).toBe(openApiText());
  });

  it("describes every public endpoint of the conventions", () => {
    const doc = JSON.parse(openApiText()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        "POST /api/v1/wallets",
        "GET /api/v1/wallets",
        "GET /api/v1/wallets/{walletId}",
        "POST /api/v1/wallets/{walletId}/deposit",
        "POST /api/v1/wallets/{walletId}/withdraw",
        "POST /api/v1/wallets/transfer",
        "GET /api/v1/transfers/{transferId}",
        "GET /api/v1/wallets/{walletId}/balance/historical",
        "GET /api/v1/wallets/{walletId}/transactions",
        "GET /api/v1/wallets/{walletId}/transactions/{transactionId}",
        "GET /api/v1/wallets/{walletId}/audit",
      ].sort(),
    );
  });
});
