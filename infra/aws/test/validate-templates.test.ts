// Real tools on the synthesized CloudFormation: cfn-lint and checkov, from the project's .venv.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAwsApp, DEFAULT_AWS_PLATFORM } from "../src/index.js";
import { MULTI_REGION } from "./multi-region-config.js";

const root = new URL("../../../", import.meta.url).pathname;
const cfnLint = join(root, ".venv", "bin", "cfn-lint");
const checkov = join(root, ".venv", "bin", "checkov");
let dir: string;
let templates: string[];
let multiRegionTemplates: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-cfn-"));
  buildAwsApp(DEFAULT_AWS_PLATFORM, dir).app.synth();
  // The opt-in multi-Region mode, in a subdirectory: cfn-lint gets its templates, checkov scans it with the rest.
  buildAwsApp(MULTI_REGION, join(dir, "multi-region")).app.synth();
  templates = readdirSync(dir)
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(dir, f));
  multiRegionTemplates = readdirSync(join(dir, "multi-region"))
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(dir, "multi-region", f));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("synthesized CloudFormation templates", () => {
  it("are one per stack", () => {
    expect(templates).toHaveLength(DEFAULT_AWS_PLATFORM.platform.cells.length + 2);
  });

  it("pass cfn-lint", () => {
    const result = spawnSync(cfnLint, ["--format", "parseable", "--", ...templates, ...multiRegionTemplates], {
      encoding: "utf8",
    });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("cfn-lint finds errors when there are some (the lint is not vacuous)", () => {
    const bad = join(dir, "bad.template.json");
    writeFileSync(
      bad,
      JSON.stringify({ Resources: { T: { Type: "AWS::DynamoDB::Table", Properties: { BillingMode: "SOMETIMES" } } } }),
    );
    try {
      const result = spawnSync(cfnLint, ["--format", "parseable", "--", bad], { encoding: "utf8" });
      expect(result.status).not.toBe(0);
      expect(result.stdout).toMatch(/KeySchema|BillingMode/);
    } finally {
      rmSync(bad);
    }
  });

  it("pass checkov's CloudFormation policies with no finding skipped", () => {
    const result = spawnSync(
      checkov,
      ["-d", dir, "--framework", "cloudformation", "--quiet", "--compact", "--skip-download", "-o", "json"],
      { encoding: "utf8", env: { ...process.env, BC_SKIP_MAPPING: "TRUE" } },
    );
    expect(result.error).toBeUndefined();
    const report = JSON.parse(result.stdout) as {
      summary: { passed: number; failed: number; skipped: number };
      results: { failed_checks?: { check_id: string; resource: string }[] };
    };
    expect((report.results.failed_checks ?? []).map((c) => `${c.check_id} ${c.resource}`)).toEqual([]);
    expect(report.summary.skipped).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(30);
    // Every resource of both modes was scanned (checkov recurses into multi-region/).
    const resources = [...templates, ...multiRegionTemplates].reduce(
      (n, f) => n + Object.keys(JSON.parse(readFileSync(f, "utf8")).Resources).length,
      0,
    );
    expect((report.summary as { resource_count?: number }).resource_count).toBe(resources);
    expect(result.status).toBe(0);
  });
});
