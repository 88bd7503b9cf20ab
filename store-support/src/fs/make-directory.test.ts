import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeDirectory } from "./make-directory.js";

describe("makeDirectory", () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("creates every missing level, and accepts one that exists", () => {
    root = mkdtempSync(join(tmpdir(), "make-directory-"));
    const deep = join(root, "a", "b", "c");
    makeDirectory(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDirectory(deep);
    makeDirectory(root);
  });

  it("fails with the system's error where a directory cannot be made, instead of looping", () => {
    root = mkdtempSync(join(tmpdir(), "make-directory-"));
    writeFileSync(join(root, "file"), "");
    expect(() => makeDirectory(join(root as string, "file", "sub"))).toThrow(/ENOTDIR/);
    expect(() => makeDirectory(join(root as string, "file"))).toThrow(/EEXIST/);
    // Under /proc, where Node's recursive mkdir never returns.
    if (existsSync("/proc/self")) expect(() => makeDirectory("/proc/cellwallet-test/x")).toThrow(/ENOENT/);
  });
});
