import { monotonicFactory } from "ulid";
import { describe, expect, it } from "vitest";
import { bufferedRandom } from "../src/buffered-random.js";

describe("bufferedRandom (ulid's PRNG)", () => {
  it("gives numbers in [0, 1) in steps of 1/256, across refills of its pool", () => {
    const random = bufferedRandom(16);
    const seen = new Set<number>();
    for (let i = 0; i < 4096; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      expect(Number.isInteger(x * 256)).toBe(true);
      seen.add(x);
    }
    // 4096 draws over 256 values: a stuck or repeating pool would show far fewer.
    expect(seen.size).toBeGreaterThan(200);
  });

  it("makes valid, unique, increasing ULIDs", () => {
    const ulid = monotonicFactory(bufferedRandom());
    const ids = Array.from({ length: 2000 }, () => ulid());
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
