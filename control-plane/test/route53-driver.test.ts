/**
 * The Route 53 driver of `cellctl az evacuate | restore` against moto's Route 53: a hosted zone with one
 * weighted record per AZ (SetIdentifier = the AZ, as infra/aws's EdgeStack creates them, each with a health
 * check), evacuated and restored in-process through the driver and as a real `cellctl` process whose SDK finds
 * moto through AWS_ENDPOINT_URL_ROUTE_53. Weights are read back with ListResourceRecordSets; the operator audit
 * trail (a temporary SQLite registry) is read back too.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { Route53Driver } from "../src/az/route53-driver.js";
import { recordOperatorAction } from "../src/cli/cli-env.js";

const motoEndpoint = inject("motoEndpoint");
const dir = mkdtempSync(join(tmpdir(), "cellwallet-route53-"));
const registryPath = join(dir, "placement.sqlite");
const AZS = ["us-east-1a", "us-east-1b", "us-east-1c"];
const suffix = Date.now().toString(36);
const DOMAIN = `api-${suffix}.cellwallet.test`;
const RECORD = `edge.${DOMAIN}`;
const auditEnv = { PLACEMENT_SQLITE_PATH: registryPath, CELLCTL_OPERATOR: "op-r53" };

const client = new Route53Client({
  region: "us-east-1",
  endpoint: motoEndpoint,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cellctl(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return runCellctl(args, {
    ...auditEnv,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_ROUTE_53: motoEndpoint,
    ...extraEnv,
  });
}

let zoneId = "";
const healthChecks: Record<string, string> = {};

/** The weights of RECORD's A sets by SetIdentifier, as Route 53 (moto) lists them. */
async function weights(): Promise<Record<string, number | undefined>> {
  const out = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const sets = (out.ResourceRecordSets ?? []).filter((s) => s.Name === `${RECORD}.` && s.Type === "A");
  for (const s of sets) {
    // The UPSERT keeps everything but the weight.
    expect(s.HealthCheckId).toBe(healthChecks[s.SetIdentifier ?? ""]);
    expect(s.ResourceRecords?.length).toBe(1);
  }
  return Object.fromEntries(sets.map((s) => [s.SetIdentifier, s.Weight]));
}

function driver(): Route53Driver {
  return new Route53Driver({
    client: new Route53Client({
      region: "us-east-1",
      endpoint: motoEndpoint,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    }),
    hostedZoneId: zoneId,
    recordName: RECORD,
  });
}

async function audit(): Promise<{ action: string; target: string; actor: string; details: Record<string, unknown> }[]> {
  const run = await cellctl(["audit-log", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  const parsed = JSON.parse(run.stdout);
  expect(parsed.verification.valid).toBe(true);
  return parsed.records;
}

describe("cellctl az --driver route53 (moto)", () => {
  beforeAll(async () => {
    // The registry that keeps the operator audit trail exists (cellctl refuses a missing one rather than create it).
    await new SqlitePlacementStore({ path: registryPath }).close();
    const zone = await client.send(
      new CreateHostedZoneCommand({ Name: DOMAIN, CallerReference: `cellwallet-${suffix}` }),
    );
    zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
    for (const [i, az] of AZS.entries()) {
      const hc = await client.send(
        new CreateHealthCheckCommand({
          CallerReference: `hc-${suffix}-${az}`,
          HealthCheckConfig: {
            Type: "HTTP",
            FullyQualifiedDomainName: `router-${az}.${DOMAIN}`,
            Port: 80,
            ResourcePath: "/ready",
            RequestInterval: 10,
            FailureThreshold: 3,
          },
        }),
      );
      healthChecks[az] = hc.HealthCheck?.Id ?? "";
      // A neighbour record that must stay untouched, and the weighted one.
      await client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: "CREATE",
                ResourceRecordSet: {
                  Name: RECORD,
                  Type: "A",
                  SetIdentifier: az,
                  Weight: 100,
                  TTL: 60,
                  HealthCheckId: healthChecks[az],
                  ResourceRecords: [{ Value: `10.0.${i}.10` }],
                },
              },
            ],
          },
        }),
      );
    }
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: "CREATE",
              ResourceRecordSet: {
                Name: `www.${DOMAIN}`,
                Type: "CNAME",
                TTL: 60,
                ResourceRecords: [{ Value: RECORD }],
              },
            },
          ],
        },
      }),
    );
    expect(await weights()).toEqual({ "us-east-1a": 100, "us-east-1b": 100, "us-east-1c": 100 });
  }, 60_000);

  afterAll(() => {
    client.destroy();
  });

  it("plans and applies an evacuation and a restore in-process through the driver", async () => {
    const d = driver();
    try {
      const plan = await d.planEvacuation("us-east-1a");
      expect(plan).toEqual({
        ok: true,
        changes: [{ record: `${RECORD}.`, type: "A", setIdentifier: "us-east-1a", az: "us-east-1a", from: 100, to: 0 }],
        unchanged: [],
      });
      if (!plan.ok) throw new Error("refused");
      await d.apply(plan.changes);
      expect(d.lastChangeId).toBeTruthy();
      expect(await weights()).toEqual({ "us-east-1a": 0, "us-east-1b": 100, "us-east-1c": 100 });

      // Already evacuated: nothing to change.
      expect(await d.planEvacuation("us-east-1a")).toEqual({ ok: true, changes: [], unchanged: ["A"] });

      const restore = await d.planRestore("us-east-1a", (type) => (type === "A" ? 100 : undefined));
      if (!restore.ok) throw new Error("refused");
      expect(restore.changes).toEqual([expect.objectContaining({ from: 0, to: 100 })]);
      await d.apply(restore.changes);
      expect(await weights()).toEqual({ "us-east-1a": 100, "us-east-1b": 100, "us-east-1c": 100 });

      await expect(d.planEvacuation("us-east-1z")).rejects.toThrow(/no weighted record .* SetIdentifier us-east-1z/);
    } finally {
      await d.close();
    }
  });

  it("evacuates and restores as a cellctl process (endpoint from AWS_ENDPOINT_URL_ROUTE_53), refusing the last record", async () => {
    const base = ["--driver", "route53", "--zone-id", zoneId, "--record", RECORD];

    const unconfirmed = await cellctl(["az", "evacuate", "us-east-1a", ...base]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    const missing = await cellctl(["az", "evacuate", "us-east-1a", "--driver", "route53", "--yes"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --zone-id and --record/);

    const a = await cellctl(["az", "evacuate", "us-east-1a", ...base, "--yes", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out).toMatchObject({ az: "us-east-1a", action: "evacuate", driver: "route53", zoneId });
    expect(out.changes).toEqual([
      { record: `${RECORD}.`, type: "A", setIdentifier: "us-east-1a", az: "us-east-1a", from: 100, to: 0 },
    ]);
    expect(out.changeId).toBeTruthy();

    // Set one record's weight to 7 first, so restore shows it puts back the recorded weight, not a default.
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: RECORD,
                Type: "A",
                SetIdentifier: "us-east-1b",
                Weight: 7,
                TTL: 60,
                HealthCheckId: healthChecks["us-east-1b"],
                ResourceRecords: [{ Value: "10.0.1.10" }],
              },
            },
          ],
        },
      }),
    );
    const b = await cellctl(["az", "evacuate", "us-east-1b", ...base, "--yes"]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/us-east-1b\s+7 -> 0/);
    expect(await weights()).toEqual({ "us-east-1a": 0, "us-east-1b": 0, "us-east-1c": 100 });

    // us-east-1c is the last record with a non-zero weight: refused, nothing changed.
    const last = await cellctl(["az", "evacuate", "us-east-1c", ...base, "--yes"]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/us-east-1c is the last record with a non-zero weight/);
    expect(await weights()).toEqual({ "us-east-1a": 0, "us-east-1b": 0, "us-east-1c": 100 });

    const unknown = await cellctl(["az", "evacuate", "us-east-1z", ...base, "--yes"]);
    expect(unknown.code).toBe(2);

    // Restore puts back the weights recorded before each evacuation, through --endpoint this time.
    const rb = await cellctl(["az", "restore", "us-east-1b", ...base, "--endpoint", motoEndpoint], {
      AWS_ENDPOINT_URL_ROUTE_53: "http://127.0.0.1:9",
    });
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/us-east-1b\s+0 -> 7/);
    const ra = await cellctl(["az", "restore", "us-east-1a", ...base]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(await weights()).toEqual({ "us-east-1a": 100, "us-east-1b": 7, "us-east-1c": 100 });
    const again = await cellctl(["az", "restore", "us-east-1a", ...base]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
  });

  it("restores to 1 when no evacuation was recorded, and to --weight when given", async () => {
    // An evacuation made outside cellctl (no audit record).
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: RECORD,
                Type: "A",
                SetIdentifier: "us-east-1c",
                Weight: 0,
                TTL: 60,
                HealthCheckId: healthChecks["us-east-1c"],
                ResourceRecords: [{ Value: "10.0.2.10" }],
              },
            },
          ],
        },
      }),
    );
    // A router-weights evacuation of the same AZ name does not count for Route 53.
    await recordOperatorAction(auditEnv, {
      actor: "op-r53",
      action: "az.evacuate",
      target: "us-east-1c",
      details: { driver: "router-weights", cell: "all", changes: [{ cellId: "A", az: "us-east-1c", from: 5, to: 0 }] },
    });
    const base = ["--driver", "route53", "--zone-id", zoneId, "--record", RECORD];
    const run = await cellctl(["az", "restore", "us-east-1c", ...base]);
    expect(run.code, run.stderr).toBe(0);
    expect((await weights())["us-east-1c"]).toBe(1);
    const d = driver();
    try {
      const plan = await d.planEvacuation("us-east-1c");
      if (!plan.ok) throw new Error("refused");
      await d.apply(plan.changes);
    } finally {
      await d.close();
    }
    const explicit = await cellctl(["az", "restore", "us-east-1c", ...base, "--weight", "50"]);
    expect(explicit.code, explicit.stderr).toBe(0);
    expect((await weights())["us-east-1c"]).toBe(50);
  });

  it("records each cellctl change in the operator audit trail, before it is applied, with the previous weights", async () => {
    const records = (await audit()).filter((r) => r.details.driver === "route53");
    expect(records.map((r) => `${r.action} ${r.target}`)).toEqual([
      "az.evacuate us-east-1a",
      "az.evacuate us-east-1b",
      "az.restore us-east-1b",
      "az.restore us-east-1a",
      "az.restore us-east-1c",
      "az.restore us-east-1c",
    ]);
    expect(records.every((r) => r.actor === "op-r53")).toBe(true);
    expect(records[1]?.details).toEqual({
      driver: "route53",
      zoneId,
      record: `${RECORD}.`,
      changes: [{ record: `${RECORD}.`, type: "A", setIdentifier: "us-east-1b", az: "us-east-1b", from: 7, to: 0 }],
    });
    expect(records[2]?.details.changes).toEqual([expect.objectContaining({ from: 0, to: 7 })]);
  });

  it("says what failed, against which API and zone, when Route 53 cannot be read (exit 2, one line)", async () => {
    const base = ["--driver", "route53", "--zone-id", zoneId, "--record", RECORD, "--yes"];
    const unreachable = await cellctl(["az", "evacuate", "us-east-1a", ...base, "--endpoint", "http://127.0.0.1:1"], {
      AWS_MAX_ATTEMPTS: "1",
    });
    expect([unreachable.code, unreachable.stdout]).toEqual([2, ""]);
    expect(unreachable.stderr).toMatch(
      new RegExp(
        `^cellctl: Route 53 \\(--endpoint http://127\\.0\\.0\\.1:1\\): ListResourceRecordSets of hosted zone ${zoneId} failed: .*ECONNREFUSED[^\n]*\n$`,
      ),
    );
    // No credentials anywhere (HOME has no ~/.aws): the SDK's bare "Could not load credentials" gets the context.
    const anonymous = await runCellctl(["az", "restore", "us-east-1a", ...base.filter((a) => a !== "--yes")], {
      ...auditEnv,
      HOME: dir,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_ROUTE_53: motoEndpoint,
      AWS_MAX_ATTEMPTS: "1",
    });
    expect([anonymous.code, anonymous.stdout]).toEqual([2, ""]);
    expect(anonymous.stderr).toMatch(
      new RegExp(
        `^cellctl: Route 53 \\(AWS_ENDPOINT_URL_ROUTE_53 ${motoEndpoint.replace(/[.]/g, "\\.")}\\): ListResourceRecordSets of hosted zone ${zoneId} failed: [^\n]*credentials[^\n]*\n$`,
      ),
    );
    expect(await weights()).toEqual({ "us-east-1a": 100, "us-east-1b": 7, "us-east-1c": 50 });
  });

  it("documents the route53 driver in --help", async () => {
    const run = await cellctl(["az", "evacuate", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--driver route53 --zone-id/);
    expect(run.stdout).toMatch(/planned evacuations/);
  });
});
