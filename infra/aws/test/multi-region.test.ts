// The opt-in multi-Region mode: cell tables as global tables (MREC) and Route 53 failover between Regions,
// synthesized and checked by the same real tools as the single-Region templates.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsPlatformConfig, buildAwsApp, CELL_TABLE_NAMES, DEFAULT_AWS_PLATFORM } from "../src/index.js";

const root = new URL("../../../", import.meta.url).pathname;
const cfnLint = join(root, ".venv", "bin", "cfn-lint");
const checkov = join(root, ".venv", "bin", "checkov");

const MULTI_REGION: AwsPlatformConfig = {
  ...DEFAULT_AWS_PLATFORM,
  domainName: "eu-west-1.api.wallet.example.com",
  hostedZone: { hostedZoneId: "Z0123456789EXAMPLE", zoneName: "wallet.example.com" },
  multiRegion: {
    replicas: [
      {
        region: "eu-central-1",
        kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
      },
    ],
  },
  regionalFailover: {
    publicName: "api.wallet.example.com",
    primary: { region: "eu-west-1", recordName: "eu-west-1.api.wallet.example.com" },
    secondary: { region: "eu-central-1", recordName: "eu-central-1.api.wallet.example.com" },
  },
};

let dir: string;
let templates: string[];
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
const load = (name: string): any => JSON.parse(readFileSync(join(dir, `${name}.template.json`), "utf8"));
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
const ofType = (template: any, type: string) =>
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  Object.values(template.Resources as Record<string, any>).filter((r) => r.Type === type);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-cfn-mr-"));
  buildAwsApp(MULTI_REGION, dir).app.synth();
  templates = readdirSync(dir)
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(dir, f));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("multi-Region mode (opt-in)", () => {
  it("makes every cell table a global table replicated to the other Region, PITR and CMK in both", () => {
    const cell = load("cellwallet-cell-1");
    expect(ofType(cell, "AWS::DynamoDB::Table")).toEqual([]);
    const globals = ofType(cell, "AWS::DynamoDB::GlobalTable");
    expect(globals).toHaveLength(CELL_TABLE_NAMES.length);
    for (const table of globals) {
      const regions = table.Properties.Replicas.map((r: { Region: unknown }) => r.Region);
      expect(regions).toContain("eu-central-1");
      expect(regions).toHaveLength(2);
      for (const replica of table.Properties.Replicas) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
        expect(replica.DeletionProtectionEnabled).toBe(true);
        expect(replica.SSESpecification.KMSMasterKeyId).toBeDefined();
      }
      expect(table.Properties.MultiRegionConsistency ?? "EVENTUAL").toBe("EVENTUAL");
      expect(table.DeletionPolicy).toBe("Retain");
    }
  });

  it("replicates the placement registry too (the other Region's routers read it); rollouts stay regional", () => {
    const controlPlane = load("cellwallet-control-plane");
    const globals = ofType(controlPlane, "AWS::DynamoDB::GlobalTable");
    expect(globals.length).toBeGreaterThan(0);
    for (const table of globals) expect(table.Properties.Replicas).toHaveLength(2);
    expect(ofType(controlPlane, "AWS::DynamoDB::Table")).toHaveLength(1);
  });

  it("adds Route 53 failover records between the two Regions' routers, each health-checked on /ready", () => {
    const edge = load("cellwallet-edge");
    const failover = ofType(edge, "AWS::Route53::RecordSet").filter((r) => r.Properties.Failover);
    expect(failover.map((r) => r.Properties.Failover).sort()).toEqual(["PRIMARY", "SECONDARY"]);
    for (const r of failover) {
      expect(r.Properties.Name).toBe("api.wallet.example.com");
      expect(r.Properties.HealthCheckId).toBeDefined();
    }
    const checks = ofType(edge, "AWS::Route53::HealthCheck").filter((h) =>
      String(h.Properties.HealthCheckConfig.FullyQualifiedDomainName).endsWith(".api.wallet.example.com"),
    );
    expect(checks.map((h) => h.Properties.HealthCheckConfig.ResourcePath)).toEqual(["/ready", "/ready"]);
  });

  it("passes cfn-lint", () => {
    const result = spawnSync(cfnLint, ["--format", "parseable", "--", ...templates], { encoding: "utf8" });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("passes checkov's CloudFormation policies with no finding skipped", () => {
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
    expect(result.status).toBe(0);
  });
});
