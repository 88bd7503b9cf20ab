import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { onboardUser } from "../src/onboard-user.js";
import { SqlitePlacementStore } from "../src/sqlite-placement-store.js";

/** Onboarding prefers cells its caller can reach: a user placed in a dead cell gets only 503s until it is back. */
describe("onboarding with the caller's view of which cells are reachable", () => {
  it("skips an unreachable cell while a reachable one has room, and falls back to the policy when none has", async () => {
    const store = new SqlitePlacementStore({
      path: join(mkdtempSync(join(tmpdir(), "onboard-reachable-")), "placement.sqlite"),
    });
    try {
      for (const [cellId, capacity] of [
        ["cell-1", 4],
        ["cell-2", 100],
      ] as const) {
        await store.putCell({
          cellId,
          state: "active",
          capacity,
          endpoints: [{ az: "az-1", url: "http://127.0.0.1:1", weight: 1 }],
        });
      }
      const down = new Set(["cell-2"]);
      const reachable = (cellId: string) => !down.has(cellId);
      expect((await store.placeUser("old", "cell-1", "override")).ok).toBe(true);
      // cell-2 is the least filled (0/100 against 1/4), so the policy alone chooses it.
      expect(await onboardUser(store, "probe", {})).toMatchObject({ ok: true, placement: { cellId: "cell-2" } });
      for (const user of ["u-1", "u-2", "u-3"]) {
        expect(await onboardUser(store, user, { reachable })).toMatchObject({
          ok: true,
          placement: { cellId: "cell-1" },
        });
      }
      // cell-1 is full: a placement in the unreachable cell beats refusing the user (it works once the cell is back).
      expect(await onboardUser(store, "u-4", { reachable })).toMatchObject({
        ok: true,
        placement: { cellId: "cell-2" },
      });
      // An existing placement is never moved by reachability.
      expect(await onboardUser(store, "u-1", { reachable: () => false })).toMatchObject({
        ok: true,
        placement: { cellId: "cell-1" },
      });
      // An override pins whatever the caller can reach.
      await store.setOverride("pinned", "cell-2");
      expect(await onboardUser(store, "pinned", { reachable })).toMatchObject({
        ok: true,
        placement: { cellId: "cell-2" },
      });
    } finally {
      await store.close();
    }
  });
});
