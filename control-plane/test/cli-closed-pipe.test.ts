import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bins = {
  cellctl: fileURLToPath(new URL("../bin/cellctl.js", import.meta.url)),
  cellload: fileURLToPath(new URL("../../loadtest/bin/cellload.js", import.meta.url)),
};

/** Runs `<cli> --help` with a reader that has already gone (what `| head -1` is for the writes after its line). */
function helpIntoClosedPipe(bin: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdout.destroy();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("the CLIs write into a pipe closed early (`--help | head -1`)", () => {
  for (const [name, bin] of Object.entries(bins)) {
    it(`${name} ends quietly: exit 0, no stack trace`, async () => {
      const { code, stderr } = await helpIntoClosedPipe(bin);
      expect(stderr).toBe("");
      expect(code).toBe(0);
    });
  }
});
