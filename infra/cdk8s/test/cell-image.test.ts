// The cell-service image (infra/docker/cell-service.Dockerfile) agrees with the manifests that run it: no
// Docker daemon is available to build it here, so what can be checked without one is checked.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CELL_PORT } from "../src/index.js";
import { RUN_AS_UID } from "../src/workload.js";

const root = new URL("../../../", import.meta.url).pathname;
const dockerfile = readFileSync(join(root, "infra", "docker", "cell-service.Dockerfile"), "utf8");
const ignore = readFileSync(join(root, "infra", "docker", "cell-service.Dockerfile.dockerignore"), "utf8");
const instructions = (name: string) =>
  dockerfile
    .split("\n")
    .filter((line) => line.startsWith(`${name} `))
    .map((line) => line.slice(name.length + 1).trim());

describe("the cell-service image", () => {
  it("runs as the non-root UID and on the port the manifests expect", () => {
    expect(instructions("USER").at(-1)).toBe(`${RUN_AS_UID}:${RUN_AS_UID}`);
    expect(instructions("EXPOSE").at(-1)).toBe(String(CELL_PORT));
    expect(instructions("ENV").at(-1)).toContain(`PORT=${CELL_PORT}`);
  });

  it("starts the cell-service entry point (the manifests set no command)", () => {
    const bin = JSON.parse(readFileSync(join(root, "cell-service", "package.json"), "utf8")).bin["cell-service"];
    expect(JSON.parse(instructions("CMD").at(-1) ?? "[]")).toEqual(["node", join("cell-service", bin)]);
  });

  it("installs only the cell service's production dependencies, and sends no local build output to the builder", () => {
    expect(dockerfile).toContain(
      "npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace @cellwallet/cell-service",
    );
    for (const pattern of ["**/node_modules", "**/dist", ".venv", ".tools", ".data"]) {
      expect(ignore.split("\n")).toContain(pattern);
    }
  });
});
