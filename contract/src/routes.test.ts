import { describe, expect, it } from "vitest";
import { INTERNAL_CREDIT_PATH } from "./internal-api.js";
import { API_ROUTES, matchRoutePath, routePaths } from "./routes.js";

describe("the route table", () => {
  const paths = routePaths(API_ROUTES);

  it("lists each method of a path once", () => {
    const keys = API_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The order of the Allow header the cells and the router send (405).
    expect(paths.find((p) => p.path === "/api/v1/wallets")?.methods).toEqual(["GET", "POST"]);
  });

  it("matches a literal path before a template it also fits", () => {
    expect(matchRoutePath(paths, "/api/v1/wallets/transfer")?.path.path).toBe("/api/v1/wallets/transfer");
    expect(matchRoutePath(paths, "/api/v1/wallets/w-1")?.path.path).toBe("/api/v1/wallets/{walletId}");
  });

  it("captures the parameters, still encoded, and matches one segment per parameter", () => {
    const m = matchRoutePath(paths, "/api/v1/wallets/a%2Db/transactions/t-1");
    expect(m?.path.routes.map((r) => r.name)).toEqual(["get-transaction"]);
    expect(m?.parameters).toEqual(["a%2Db", "t-1"]);
    expect(matchRoutePath(paths, "/api/v1/wallets/a/b")).toBeUndefined();
    expect(matchRoutePath(paths, "/api/v1/wallets/")).toBeUndefined();
    expect(matchRoutePath(paths, INTERNAL_CREDIT_PATH)?.path.methods).toEqual(["POST"]);
  });

  it("every template matches a path of its own shape first", () => {
    for (const p of paths) {
      const sample = p.path.replaceAll(/\{[^}]+\}/g, "x1");
      expect(matchRoutePath(paths, sample)?.path.path).toBe(p.path);
    }
  });
});
