#!/usr/bin/env node
// `npm run synth:aws` (or `npx cdk synth` in infra/aws): CloudFormation templates to infra/aws/cdk.out.
// Offline: every stack has an explicit env and no look-ups, so no credentials are read.
import { fileURLToPath } from "node:url";
import { buildAwsApp } from "./app.js";

// Under the cdk CLI, CDK_OUTDIR is set and App() honours it; run directly, write to infra/aws/cdk.out.
const outdir = process.env.CDK_OUTDIR ?? fileURLToPath(new URL("../cdk.out", import.meta.url));
const { app } = buildAwsApp(undefined, outdir);
const assembly = app.synth();
console.log(`wrote ${assembly.stacks.length} templates to ${assembly.directory}`);
