import { readFileSync } from "node:fs";
import {
  AMOUNT_PATTERN,
  IDEMPOTENCY_KEY_PATTERN,
  PROBLEM_TYPES,
  REFERENCE_PATTERN,
  USER_ID_PATTERN,
} from "@cellwallet/contract";
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

  // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
  const doc = JSON.parse(openApiText()) as any;
  // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
  const operations = Object.entries(doc.paths).flatMap(([path, methods]: [string, any]) =>
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
    Object.entries(methods).map(([method, op]: [string, any]) => ({ label: `${method.toUpperCase()} ${path}`, op })),
  );

  it("publishes the server's own patterns (user ids, Idempotency-Key, amounts), required bodies and operation ids", () => {
    expect(doc.components.schemas.CreateWallet.properties.userId.pattern).toBe(USER_ID_PATTERN);
    expect(doc.components.schemas.MoneyMovement.properties.amount.pattern).toBe(AMOUNT_PATTERN);
    expect(doc.components.schemas.TransferRequest.properties.amount.pattern).toBe(AMOUNT_PATTERN);
    expect(doc.components.schemas.MoneyMovement.properties.reference.pattern).toBe(REFERENCE_PATTERN);
    expect(doc.components.schemas.TransferRequest.properties.reference.pattern).toBe(REFERENCE_PATTERN);
    for (const { label, op } of operations) {
      expect(op.operationId, label).toMatch(/^[a-z][A-Za-z]+$/);
      if (!label.startsWith("POST")) continue;
      expect(op.requestBody.required, label).toBe(true);
      const key = op.parameters.find((p: { name: string }) => p.name === "Idempotency-Key");
      expect(key.schema.pattern, label).toBe(IDEMPOTENCY_KEY_PATTERN);
    }
    const query = operations.find((o) => o.label === "GET /api/v1/wallets")?.op.parameters[0];
    expect([query.name, query.required, query.schema.pattern]).toEqual(["userId", true, USER_ID_PATTERN]);
  });

  it("documents, per operation, each status with its problem codes and the retry headers", () => {
    const documented = new Set<string>();
    for (const { label, op } of operations) {
      // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
      for (const [status, response] of Object.entries(op.responses) as [string, any][]) {
        const problem = response.content?.["application/problem+json"]?.schema;
        if (!problem) continue;
        const codes: string[] = problem.allOf[1].properties.code.enum;
        expect(codes.length, `${label} ${status}`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(String(PROBLEM_TYPES[code as keyof typeof PROBLEM_TYPES].status), `${label} ${code}`).toBe(status);
          documented.add(code);
        }
      }
      expect(op.responses["503"].headers["Retry-After"].required, label).toBe(true);
      expect(op.responses["429"].headers["Retry-After"].required, label).toBe(true);
      for (const status of ["201", "202"]) {
        if (op.responses[status]) expect(op.responses[status].headers.Location.required, label).toBe(true);
      }
    }
    // Every public code of the catalogue is documented on some operation; the others never reach a public client.
    const internalOnly = ["not-found", "method-not-allowed", "migration-conflict", "internal-error"];
    const beforeAnyOperation = ["malformed-request", "request-timeout", "headers-too-large"];
    expect([...documented].sort()).toEqual(
      Object.keys(PROBLEM_TYPES)
        .filter((c) => !internalOnly.includes(c) && !beforeAnyOperation.includes(c))
        .sort(),
    );
  });

  it("links the resource flows for clients and stateful testing", () => {
    const links = (label: string, status: string) =>
      Object.values(operations.find((o) => o.label === label)?.op.responses[status].links ?? {}).map(
        (l) => (l as { operationId: string }).operationId,
      );
    expect(links("POST /api/v1/wallets", "201")).toEqual(expect.arrayContaining(["getWallet", "deposit", "withdraw"]));
    expect(links("POST /api/v1/wallets/transfer", "201")).toContain("getTransfer");
    expect(links("POST /api/v1/wallets/transfer", "202")).toContain("getTransfer");
    expect(links("POST /api/v1/wallets/{walletId}/deposit", "201")).toContain("getTransaction");
  });
});
