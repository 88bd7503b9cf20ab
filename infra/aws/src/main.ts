#!/usr/bin/env node
// `npm run synth:aws` (or `npx cdk synth` in infra/aws): CloudFormation templates to infra/aws/cdk.out.
// Offline: every stack has an explicit env and no look-ups, so no credentials are read.
// The platform is DEFAULT_AWS_PLATFORM, with the top-level members of the JSON file named by
// $CELLWALLET_AWS_PLATFORM over it (e.g. the opt-in `multiRegion` and `regionalFailover`, see
// docs/disaster-recovery.md).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type AwsPlatformConfig, buildAwsApp, DEFAULT_AWS_PLATFORM } from "./app.js";

function configFromEnv(): AwsPlatformConfig {
  const path = process.env.CELLWALLET_AWS_PLATFORM;
  if (!path) return DEFAULT_AWS_PLATFORM;
  try {
    return { ...DEFAULT_AWS_PLATFORM, ...(JSON.parse(readFileSync(path, "utf8")) as Partial<AwsPlatformConfig>) };
  } catch (error) {
    console.error(`synth:aws: CELLWALLET_AWS_PLATFORM=${path}: ${(error as Error).message}`);
    process.exit(2);
  }
}

// Under the cdk CLI, CDK_OUTDIR is set and App() honours it; run directly, write to infra/aws/cdk.out.
const outdir = process.env.CDK_OUTDIR ?? fileURLToPath(new URL("../cdk.out", import.meta.url));
const { app } = buildAwsApp(configFromEnv(), outdir);
const assembly = app.synth();
console.log(`wrote ${assembly.stacks.length} templates to ${assembly.directory}`);
