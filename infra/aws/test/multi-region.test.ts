// The opt-in multi-Region mode: cell tables as global tables (MREC) and Route 53 failover between Regions.
// validate-templates.test.ts runs cfn-lint and checkov on these templates too (one checkov run for both modes).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAwsApp, CELL_TABLE_NAMES } from "../src/index.js";
import { MULTI_REGION } from "./multi-region-config.js";

let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
const load = (name: string): any => JSON.parse(readFileSync(join(dir, `${name}.template.json`), "utf8"));
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
const ofType = (template: any, type: string) =>
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  Object.values(template.Resources as Record<string, any>).filter((r) => r.Type === type);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-cfn-mr-"));
  buildAwsApp(MULTI_REGION, dir).app.synth();
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

  it("is what `npm run synth:aws` writes with CELLWALLET_AWS_PLATFORM naming a JSON file (as a process)", () => {
    const out = join(dir, "synth-process");
    const configFile = join(dir, "aws-platform.json");
    const { multiRegion, regionalFailover, domainName, hostedZone } = MULTI_REGION;
    writeFileSync(configFile, JSON.stringify({ multiRegion, regionalFailover, domainName, hostedZone }));
    const main = new URL("../dist/main.js", import.meta.url).pathname;
    const result = spawnSync(process.execPath, [main], {
      encoding: "utf8",
      env: { ...process.env, CDK_OUTDIR: out, CELLWALLET_AWS_PLATFORM: configFile },
    });
    expect(result.status, result.stderr).toBe(0);
    const cell = JSON.parse(readFileSync(join(out, "cellwallet-cell-1.template.json"), "utf8"));
    expect(ofType(cell, "AWS::DynamoDB::GlobalTable")).toHaveLength(CELL_TABLE_NAMES.length);
    const bad = spawnSync(process.execPath, [main], {
      encoding: "utf8",
      env: { ...process.env, CDK_OUTDIR: join(dir, "bad"), CELLWALLET_AWS_PLATFORM: join(dir, "missing.json") },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    // A whole CDK synth in a process: ~7 s alone, several times that on a loaded 2-core machine.
  }, 120_000);

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
});
