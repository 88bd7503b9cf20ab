import { describe, expect, it } from "vitest";
import { type EndpointLike, orderEndpoints, weightedShuffle } from "../src/endpoint-order.js";

const ep = (az: string, weight = 1, url = `http://${az}`): EndpointLike => ({ az, url, weight });

/** A small deterministic PRNG (mulberry32) so the statistical tests never flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const allHealthy = () => true;
const urls = (list: EndpointLike[]) => list.map((e) => e.url);

describe("orderEndpoints", () => {
  it("puts the router's own AZ first when it is healthy and weighted", () => {
    const endpoints = [ep("az-2"), ep("az-3"), ep("az-1")];
    for (let seed = 1; seed <= 50; seed++) {
      const order = orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: allHealthy, random: seeded(seed) });
      expect(order[0]?.az).toBe("az-1");
      expect(order).toHaveLength(3);
    }
  });

  it("never uses an endpoint of weight 0, even in the router's own AZ and even as a last resort", () => {
    const endpoints = [ep("az-1", 0), ep("az-2", 1), ep("az-3", 0)];
    expect(urls(orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: allHealthy }))).toEqual(["http://az-2"]);
    expect(orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: () => false })).toHaveLength(1);
    expect(orderEndpoints([ep("az-1", 0), ep("az-2", 0)], { ownAz: "az-1", isHealthy: allHealthy })).toEqual([]);
  });

  it("ignores weights that are not positive finite numbers", () => {
    const endpoints = [ep("az-1", -1), ep("az-2", Number.NaN), ep("az-3", Number.POSITIVE_INFINITY), ep("az-4", 2)];
    expect(urls(orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: allHealthy }))).toEqual(["http://az-4"]);
  });

  it("moves an unhealthy own AZ behind the healthy others, keeping it as a last resort", () => {
    const endpoints = [ep("az-1"), ep("az-2"), ep("az-3")];
    const isHealthy = (url: string) => url !== "http://az-1";
    for (let seed = 1; seed <= 20; seed++) {
      const order = orderEndpoints(endpoints, { ownAz: "az-1", isHealthy, random: seeded(seed) });
      expect(
        order
          .map((e) => e.az)
          .slice(0, 2)
          .sort(),
      ).toEqual(["az-2", "az-3"]);
      expect(order[2]?.az).toBe("az-1");
    }
  });

  it("orders unhealthy endpoints own AZ first too, after every healthy one", () => {
    const endpoints = [ep("az-2"), ep("az-1"), ep("az-3")];
    const isHealthy = (url: string) => url === "http://az-3";
    const order = orderEndpoints(endpoints, { ownAz: "az-1", isHealthy, random: seeded(7) });
    expect(order.map((e) => e.az)).toEqual(["az-3", "az-1", "az-2"]);
  });

  it("spreads the other AZs in proportion to their weights", () => {
    const endpoints = [ep("az-2", 3), ep("az-3", 1)];
    const random = seeded(42);
    let az2First = 0;
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const order = orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: allHealthy, random });
      if (order[0]?.az === "az-2") az2First += 1;
    }
    expect(az2First / draws).toBeGreaterThan(0.72);
    expect(az2First / draws).toBeLessThan(0.78);
  });

  it("uses only the other AZs when the router's AZ has no endpoint of the cell", () => {
    const order = orderEndpoints([ep("az-2"), ep("az-3")], { ownAz: "az-9", isHealthy: allHealthy });
    expect(order.map((e) => e.az).sort()).toEqual(["az-2", "az-3"]);
  });

  it("is deterministic for a given random source and does not mutate its input", () => {
    const endpoints = [ep("az-2", 2), ep("az-3", 5), ep("az-4", 1), ep("az-1", 1)];
    const copy = structuredClone(endpoints);
    const a = orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: allHealthy, random: seeded(3) });
    const b = orderEndpoints(endpoints, { ownAz: "az-1", isHealthy: allHealthy, random: seeded(3) });
    expect(a).toEqual(b);
    expect(endpoints).toEqual(copy);
  });
});

describe("weightedShuffle", () => {
  it("survives random() returning 0 and keeps every element", () => {
    const out = weightedShuffle([ep("a"), ep("b"), ep("c")], () => 0);
    expect(urls(out).sort()).toEqual(["http://a", "http://b", "http://c"]);
  });
});
