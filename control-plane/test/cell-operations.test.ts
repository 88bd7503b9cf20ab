import type { CellRecord } from "@cellwallet/placement";
import { describe, expect, it } from "vitest";
import {
  lifecycleTransition,
  parseEndpointOption,
  planEvacuation,
  planRestore,
  staticStability,
} from "../src/placement/cell-operations.js";

const ep = (az: string, weight: number) => ({ az, url: `http://127.0.0.1/${az}`, weight });
const cell = (cellId: string, state: CellRecord["state"], ...endpoints: ReturnType<typeof ep>[]): CellRecord => ({
  cellId,
  state,
  capacity: 10,
  users: 0,
  endpoints,
  updatedAt: 0,
});

describe("cell operation rules", () => {
  it("static stability: N equal AZs need N/(N-1); weights shift it; unready AZs are not in service", () => {
    const three = staticStability([ep("a", 1), ep("b", 1), ep("c", 1)]);
    expect(three).toMatchObject({ inService: 3, total: 3, requiredFactor: 1.5, canLoseOneAz: true });
    const two = staticStability([ep("a", 1), ep("b", 1), ep("c", 0)]);
    expect(two).toMatchObject({ inService: 2, total: 3, requiredFactor: 2, canLoseOneAz: false });
    // Losing the heavy AZ (2 of 4) doubles the others' load.
    expect(staticStability([ep("a", 2), ep("b", 1), ep("c", 1)])).toMatchObject({
      largestAz: "a",
      requiredFactor: 2,
      canLoseOneAz: false,
    });
    expect(staticStability([ep("a", 1), ep("b", 1), ep("c", 1)], (e) => e.az !== "c").inService).toBe(2);
    expect(staticStability([ep("a", 1)])).toMatchObject({ requiredFactor: null, canLoseOneAz: false });
    expect(staticStability([ep("a", 1), ep("b", 1)], () => true, 2).canLoseOneAz).toBe(true);
  });

  it("evacuation refuses as a whole when any cell would lose its last AZ in service; restore prefers earlier weights", () => {
    const cells = [cell("c1", "active", ep("a", 2), ep("b", 1)), cell("c2", "cordoned", ep("a", 0), ep("b", 1))];
    expect(planEvacuation(cells, "a")).toEqual({
      ok: true,
      changes: [{ cellId: "c1", az: "a", from: 2, to: 0 }],
      unchanged: ["c2"],
    });
    expect(planEvacuation(cells, "b")).toEqual({ ok: false, refusals: ["c2: b is its last AZ in service"] });
    expect(planEvacuation([cell("r", "retired", ep("a", 1))], "a")).toEqual({ ok: true, changes: [], unchanged: [] });
    const restore = planRestore(cells, "a", (id) => (id === "c2" ? 5 : undefined));
    expect(restore).toEqual({ changes: [{ cellId: "c2", az: "a", from: 0, to: 5 }], unchanged: ["c1"] });
    expect(planRestore(cells, "a", () => undefined).changes[0]?.to).toBe(1);
    expect(planRestore(cells, "a", () => 5, 3).changes[0]?.to).toBe(3);
  });

  it("cordon/uncordon transitions and --endpoint parsing", () => {
    expect(lifecycleTransition("active", "cordon")).toEqual({ ok: true, to: "cordoned", changed: true });
    expect(lifecycleTransition("cordoned", "cordon")).toEqual({ ok: true, to: "cordoned", changed: false });
    expect(lifecycleTransition("cordoned", "uncordon")).toEqual({ ok: true, to: "active", changed: true });
    expect(lifecycleTransition("draining", "uncordon").ok).toBe(false);
    expect(lifecycleTransition("retired", "cordon").ok).toBe(false);
    expect(parseEndpointOption("az-1=http://10.0.0.1:8081")).toEqual({ az: "az-1", url: "http://10.0.0.1:8081" });
    expect(() => parseEndpointOption("az-1")).toThrow(/az=/);
    expect(() => parseEndpointOption("az-1=ftp://x")).toThrow(/az=/);
  });
});
