#!/usr/bin/env node
// `npm run synth`: writes the platform's manifests, one file per chart, to infra/cdk8s/dist/manifests
// (or $CDK8S_OUTDIR). The platform is DEFAULT_PLATFORM, or the JSON file named by $CELLWALLET_PLATFORM.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_PLATFORM, type PlatformConfig } from "./config.js";
import { buildPlatform } from "./platform.js";

const outdir = process.env.CDK8S_OUTDIR ?? fileURLToPath(new URL("../dist/manifests", import.meta.url));
const config: PlatformConfig = process.env.CELLWALLET_PLATFORM
  ? {
      ...DEFAULT_PLATFORM,
      ...(JSON.parse(readFileSync(process.env.CELLWALLET_PLATFORM, "utf8")) as Partial<PlatformConfig>),
    }
  : DEFAULT_PLATFORM;
const app = buildPlatform(config, outdir);
app.synth();
console.log(`wrote ${app.charts.length} charts (${config.cells.length} cells x ${config.azs.length} AZs) to ${outdir}`);
