import { API_ROUTES, createTokenVerifier, DEVELOPMENT_JWT_SECRET, routePaths } from "@cellwallet/contract";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createCellApp } from "../src/adapters/http/app.js";
import { ClientIpResolver } from "../src/adapters/http/client-ip.js";
import { CellMetrics } from "../src/adapters/http/metrics.js";
import { openApiDocument } from "../src/adapters/http/openapi-document.js";
import type { CellDeps } from "../src/application/operation-context.js";

/** The contract's route table, the OpenAPI document and the cell's method check are one table. */

const operations = (doc: unknown) =>
  Object.entries((doc as { paths: Record<string, Record<string, unknown>> }).paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
  );
const publicRoutes = API_ROUTES.filter((r) => r.audience === "public").map((r) => `${r.method} ${r.path}`);

describe("the route table", () => {
  it("names every operation of the OpenAPI document", () => {
    const documented = operations(openApiDocument());
    expect(documented.length).toBe(11);
    expect(documented.filter((op) => !publicRoutes.includes(op))).toEqual([]);
  });

  it("has no public route the OpenAPI document lacks", () => {
    const documented = operations(openApiDocument());
    expect(publicRoutes.filter((op) => !documented.includes(op))).toEqual([]);
    expect(new Set(publicRoutes).size).toBe(publicRoutes.length);
  });

  describe("is the cell's method check", () => {
    const app = createCellApp({
      deps: { cellId: "cell-a" } as CellDeps,
      verifyToken: createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET }),
      verifyInternalToken: createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET }),
      clientIp: new ClientIpResolver([]),
      metrics: new CellMetrics("cell-a", "az-a"),
      logger: pino({ level: "silent" }),
      ready: async () => true,
    });
    const sample = (template: string) => template.replaceAll(/\{[^}]+\}/g, "01JD3F6V6Y0M6X8Y9Z0A1B2C3D-cell-a");
    const apiPaths = routePaths(API_ROUTES.filter((r) => r.path.startsWith("/api/")));

    it.each(apiPaths.map((p) => [p.path, p.methods] as const))(
      "%s accepts %j and nothing else",
      async (path, methods) => {
        for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
          const response = await app.request(sample(path), { method });
          if (methods.includes(method as "GET")) {
            // Accepted: the request goes on to authentication.
            expect(response.status).toBe(401);
          } else {
            expect(response.status).toBe(405);
            expect(response.headers.get("allow")).toBe(methods.join(", "));
          }
        }
      },
    );

    it("answers a wrong method on /api/v1/wallets with Allow: GET, POST (the order clients have always seen)", async () => {
      const response = await app.request("/api/v1/wallets", { method: "DELETE" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, POST");
    });
  });
});
