import { describe, expect, it } from "vitest";
import { assertSupportedNode, MIN_NODE_MAJOR } from "./supported-node.js";

describe("assertSupportedNode", () => {
  it("accepts Node 22 and later, the one running these tests included", () => {
    expect(MIN_NODE_MAJOR).toBe(22);
    for (const version of ["22.0.0", "22.23.3", "24.21.0", "26.1.0"]) {
      expect(() => assertSupportedNode(version)).not.toThrow();
    }
    expect(() => assertSupportedNode()).not.toThrow();
  });

  it("refuses an older Node with a message that says what to do", () => {
    expect(() => assertSupportedNode("20.20.2")).toThrow(
      "the embedded store needs Node.js 22 or later, not 20.20.2: run it through npm scripts or npx, which use " +
        "the project's Node 22 (node_modules/.bin/node, installed by npm ci)",
    );
    expect(() => assertSupportedNode("garbage")).toThrow(/needs Node.js 22 or later/);
  });
});
