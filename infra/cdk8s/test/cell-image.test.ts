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

  it("copies every workspace package the cell service imports, transitively, into the final image", () => {
    // npm links node_modules/@cellwallet/<name> to the workspace folder <name>: a package left out of the final
    // stage is a dangling link, and the cell fails at its first import (store-support and telemetry once were).
    const closure = new Set<string>();
    const visit = (dir: string) => {
      const deps = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")).dependencies ?? {};
      for (const name of Object.keys(deps)) {
        if (!name.startsWith("@cellwallet/")) continue;
        const workspace = name.slice("@cellwallet/".length);
        if (closure.has(workspace)) continue;
        closure.add(workspace);
        visit(workspace);
      }
    };
    visit("cell-service");
    expect([...closure].sort()).toEqual(["chain", "contract", "store-support", "telemetry"]);
    const copies = instructions("COPY");
    for (const workspace of [...closure, "cell-service"]) {
      expect(copies).toContain(`--from=build /src/${workspace}/package.json ./${workspace}/`);
      expect(copies).toContain(`--from=build /src/${workspace}/dist ./${workspace}/dist`);
    }
  });
});
