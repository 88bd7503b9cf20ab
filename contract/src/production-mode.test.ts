import { describe, expect, it } from "vitest";
import { isProductionMode } from "./production-mode.js";

describe("isProductionMode", () => {
  it("is on with WALLET_MODE=production or NODE_ENV=production, and only then", () => {
    expect(isProductionMode({ WALLET_MODE: "production" })).toBe(true);
    expect(isProductionMode({ NODE_ENV: "production" })).toBe(true);
    expect(isProductionMode({})).toBe(false);
    expect(isProductionMode({ WALLET_MODE: "development", NODE_ENV: "test" })).toBe(false);
    expect(isProductionMode({ WALLET_MODE: "Production" })).toBe(false);
  });
});
