#!/usr/bin/env node
// `npm run synth`: writes the platform's manifests, one file per chart, to infra/cdk8s/dist/manifests
// (or $CDK8S_OUTDIR). The platform is DEFAULT_PLATFORM, or the JSON file named by $CELLWALLET_PLATFORM.
//
// `npm run synth -- --version v2 [--cell-image repo@sha256:...]` (or $CELLWALLET_VERSION, $CELLWALLET_CELL_IMAGE)
// synthesizes one release of the cells instead, into <outdir>/<version>/: the cells' image carries the version
// as its tag (or is the digest given) and their Deployments the label cellwallet.io/version. A rollout
// (`cellctl rollout plan|start --driver kubernetes --manifests <outdir>`) reads the releases side by side.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cellImageOf, DEFAULT_PLATFORM, isValidVersion, type PlatformConfig } from "./config.js";
import { buildPlatform } from "./platform.js";

function usage(message: string): never {
  console.error(
    `synth: ${message}\nusage: npm run synth -- [--version <release>] [--cell-image <repository or repo@sha256:digest>]`,
  );
  process.exit(2);
}

let args: { version?: string | undefined; "cell-image"?: string | undefined };
try {
  args = parseArgs({
    options: { version: { type: "string" }, "cell-image": { type: "string" } },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (error) {
  usage((error as Error).message);
}
const version = args.version ?? process.env.CELLWALLET_VERSION;
const cellImage = args["cell-image"] ?? process.env.CELLWALLET_CELL_IMAGE;
if (version !== undefined && !isValidVersion(version)) {
  usage(`version ${JSON.stringify(version)} must be a label value and image tag: A-Z a-z 0-9 . _ -, at most 63`);
}
if (cellImage !== undefined && version === undefined) usage("--cell-image needs --version (the release it names)");

const baseOutdir = process.env.CDK8S_OUTDIR ?? fileURLToPath(new URL("../dist/manifests", import.meta.url));
const outdir = version === undefined ? baseOutdir : join(baseOutdir, version);
const base: PlatformConfig = process.env.CELLWALLET_PLATFORM
  ? {
      ...DEFAULT_PLATFORM,
      ...(JSON.parse(readFileSync(process.env.CELLWALLET_PLATFORM, "utf8")) as Partial<PlatformConfig>),
    }
  : DEFAULT_PLATFORM;
const config: PlatformConfig = {
  ...base,
  ...(cellImage !== undefined ? { cellImage } : {}),
  ...(version !== undefined ? { version } : {}),
};
const app = buildPlatform(config, outdir);
app.synth();
const release = version === undefined ? "" : ` release ${version} (${cellImageOf(config)})`;
console.log(
  `wrote ${app.charts.length} charts (${config.cells.length} cells x ${config.azs.length} AZs)${release} to ${outdir}`,
);
