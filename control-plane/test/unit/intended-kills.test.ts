import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { announceIntendedKills, takeIntendedKill } from "../../src/local/intended-kills.js";

/** How a restore tells the launcher that its SIGKILL of a cell's processes is no crash. */
describe("intended kills announced to the launcher", () => {
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "intended-kills-"));
    mkdirSync(join(dir, "control-plane"));
    return dir;
  };

  it("answers why an announced pid was killed, once, and nothing for others", () => {
    const dir = dataDir();
    announceIntendedKills(dir, [101, 102], "cellctl backup restore of cell-2", 1_000);
    expect(takeIntendedKill(dir, 103, 2_000)).toBeUndefined();
    expect(takeIntendedKill(dir, 101, 2_000)).toBe("cellctl backup restore of cell-2");
    expect(takeIntendedKill(dir, 101, 2_000)).toBeUndefined(); // used up
    expect(takeIntendedKill(dir, 102, 2_000)).toBe("cellctl backup restore of cell-2");
  });

  it("forgets an announcement after a minute (a pid may be reused later)", () => {
    const dir = dataDir();
    announceIntendedKills(dir, [7], "cellctl backup restore of cell-1", 1_000);
    expect(takeIntendedKill(dir, 7, 61_000)).toBeUndefined();
    expect(takeIntendedKill(join(dir, "nowhere"), 7)).toBeUndefined();
  });
});
