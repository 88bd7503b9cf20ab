import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS } from "../../src/cellload/slo-defaults.js";
import { parseThreshold } from "../../src/cellload/thresholds.js";

/**
 * cellload's default thresholds "come from docs/slo.md": the page, the loadtest README and the deploy's load gate
 * name exactly the thresholds the code uses, so that changing one without the others fails here.
 */
const root = new URL("../../..", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const quoted = (text: string) => [...text.matchAll(/`([a-z_]+(?:\{[^}`]*\})?:[^`]+)`/g)].map((m) => m[1]);

describe("cellload's default thresholds", () => {
  it("are valid thresholds", () => {
    for (const t of DEFAULT_THRESHOLDS) expect(() => parseThreshold(t)).not.toThrow();
  });

  it("are the ones docs/slo.md gives as cellload's defaults", () => {
    const slo = read("docs/slo.md");
    const bullet = slo.slice(slo.indexOf("**`cellload` defaults**"));
    expect(bullet.length).toBeLessThan(slo.length);
    const named = quoted(bullet.slice(0, bullet.indexOf("pass")));
    expect(named).toEqual([...DEFAULT_THRESHOLDS]);
  });

  it("are the defaults the loadtest README lists", () => {
    const readme = read("loadtest/README.md");
    const line = readme.slice(readme.indexOf("**Defaults**"), readme.indexOf("## One cell"));
    expect(quoted(line)).toEqual([...DEFAULT_THRESHOLDS]);
  });

  it("are what the deploy's per-cell load gate passes", () => {
    const wave = read(".github/workflows/rollout-wave.yml");
    const passed = [...wave.matchAll(/--threshold '([^']+)'/g)].map((m) => m[1]);
    expect(passed).toEqual([...DEFAULT_THRESHOLDS]);
  });
});
