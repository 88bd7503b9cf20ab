#!/usr/bin/env node
// Prometheus and promtool for the alert-rule tests, the real-Prometheus test and `npm run observe`: Debian's
// `prometheus` package, fetched with `apt-get download` and unpacked into .tools/prometheus (no system install,
// no service started; about two seconds when the package lists are present, nothing when already done).
// `go install` of the Prometheus module was the other choice: minutes of compiling on a 2-core CI machine.
// Where there is no apt-get, prometheus and promtool already on PATH are linked instead.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const tools = join(root, ".tools");
const gobin = join(tools, "bin");

function onPath(name) {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function ensurePrometheus() {
  const promDir = join(tools, "prometheus");
  const promStamp = join(tools, ".prometheus-version");
  if (existsSync(join(gobin, "promtool")) && existsSync(join(gobin, "prometheus")) && existsSync(promStamp)) return;
  mkdirSync(gobin, { recursive: true });
  if (onPath("apt-get")) {
    rmSync(promDir, { recursive: true, force: true });
    mkdirSync(promDir, { recursive: true });
    const download = () => execFileSync("apt-get", ["download", "-q", "prometheus"], { cwd: promDir, stdio: "pipe" });
    try {
      download();
    } catch {
      console.log("apt-get download prometheus failed; refreshing the package lists (apt-get update) once ...");
      execFileSync("apt-get", ["update", "-q"], { stdio: ["ignore", "inherit", "inherit"] });
      download();
    }
    const deb = readdirSync(promDir).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error("apt-get download prometheus left no .deb");
    console.log(`unpacking ${deb} into ${promDir} ...`);
    execFileSync("dpkg-deb", ["-x", join(promDir, deb), join(promDir, "root")]);
    for (const bin of ["prometheus", "promtool"]) {
      rmSync(join(gobin, bin), { force: true });
      // Relative, so the checkout can move.
      execFileSync("ln", ["-s", join("..", "prometheus", "root", "usr", "bin", bin), join(gobin, bin)]);
    }
    rmSync(join(promDir, deb));
    writeFileSync(promStamp, deb);
  } else {
    for (const bin of ["prometheus", "promtool"]) {
      const found = onPath(bin);
      if (!found) throw new Error(`${bin} not found: install Prometheus (apt-get install prometheus, or brew)`);
      rmSync(join(gobin, bin), { force: true });
      execFileSync("ln", ["-s", found, join(gobin, bin)]);
    }
    writeFileSync(promStamp, "from PATH");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) ensurePrometheus();
