import { describe, expect, it } from "vitest";
import { formatTimestamp, parseTimestamp } from "./time.js";

describe("parseTimestamp", () => {
  const instant = Date.UTC(2026, 10, 25, 10, 0, 0, 123);
  it.each([
    "2026-11-25T10:00:00.123Z",
    "2026-11-25t10:00:00.123z",
    "2026-11-25T15:30:00.123+05:30",
    "2026-11-25T02:00:00.123-08:00",
    "2026-11-25T10:00:00.1239999Z",
  ])("reads %s as the same instant (sub-millisecond digits truncated)", (text) => {
    expect(parseTimestamp(text)).toBe(instant);
  });

  it("reads whole seconds", () => {
    expect(parseTimestamp("2026-11-25T10:00:00Z")).toBe(instant - 123);
  });

  it.each([
    "2026-11-25",
    "2026-11-25 10:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-11-25T24:00:00Z",
    "2026-11-25T10:00:60Z",
    "2026-11-25T10:00:00",
    "2026-11-25T10:00:00+0530",
    "2026-11-25T10:00:00+24:00",
    "yesterday",
    "",
  ])("refuses %j", (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });

  it("formats in UTC with milliseconds", () => {
    expect(formatTimestamp(instant)).toBe("2026-11-25T10:00:00.123Z");
  });
});
