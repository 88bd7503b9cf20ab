#!/usr/bin/env node
// Installs what the tests need beyond npm: moto's server (DynamoDB, Route 53 on
// loopback) in a project-local virtualenv. Idempotent and quick when done.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const venv = join(root, ".venv");
const python = join(venv, "bin", "python");
const requirements = join(root, "scripts", "test-requirements.txt");
const stamp = join(venv, ".requirements-installed");
const wanted = readFileSync(requirements, "utf8");

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
}

if (existsSync(stamp) && readFileSync(stamp, "utf8") === wanted && existsSync(python)) {
  process.exit(0);
}
const systemPython = process.env.PYTHON ?? "python3";
console.log(`setting up test tools in ${venv} (moto server) ...`);
if (!existsSync(python)) run(systemPython, ["-m", "venv", venv]);
run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]);
writeFileSync(stamp, wanted);
