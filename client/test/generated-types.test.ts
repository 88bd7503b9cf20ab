import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED_TYPES, generatedTypes } from "../src/tools/generate-types.js";

describe("the client's generated types", () => {
  it("are what openapi-typescript generates from the committed docs/openapi.json (run `npm run generate -w client`)", async () => {
    expect(readFileSync(GENERATED_TYPES, "utf8")).toBe(await generatedTypes());
  });
});
