import { API_ROUTES, routePaths } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";
import { matchRoute } from "../src/resolution.js";

/** The router resolves exactly the contract's public and internal routes, with the table's methods. */
describe("the router's routes are the contract's route table", () => {
  const sample = (template: string) => template.replaceAll(/\{[^}]+\}/g, "01JD3F6V6Y0M6X8Y9Z0A1B2C3D-cell-a");

  it.each(routePaths(API_ROUTES.filter((r) => r.audience !== "cell")).map((p) => [p.path, p.methods] as const))(
    "%s: %j",
    (path, methods) => {
      expect(matchRoute(sample(path))?.methods).toEqual(methods);
    },
  );

  it.each(API_ROUTES.filter((r) => r.audience === "cell").map((r) => r.path))(
    "%s (on a cell only) names no route of the router",
    (path) => {
      expect(matchRoute(sample(path))).toBeUndefined();
    },
  );

  it("keeps the methods of /api/v1/wallets in the order of its Allow header", () => {
    expect(matchRoute("/api/v1/wallets")?.methods).toEqual(["GET", "POST"]);
  });
});
