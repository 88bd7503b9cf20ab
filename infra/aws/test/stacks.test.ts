import { CELL_TABLES, cellTableNames } from "@cellwallet/cell-service";
import { ROLLOUT_TABLE, rolloutTableName } from "@cellwallet/control-plane/rollout";
import { PLACEMENT_TABLE_NAMES, PLACEMENT_TABLES, placementTableNames } from "@cellwallet/placement";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import {
  buildAwsApp,
  CELL_TABLE_NAMES,
  cellAlarmNames,
  DEFAULT_AWS_PLATFORM,
  ENTRIES_DENIED_ACTIONS,
} from "../src/index.js";

const { cells, controlPlane, edge } = buildAwsApp(DEFAULT_AWS_PLATFORM);
const cellStack = cells[0];
if (!cellStack) throw new Error("no cell stack");
const cellId = DEFAULT_AWS_PLATFORM.platform.cells[0]?.cellId as string;
const cellTemplate = Template.fromStack(cellStack);
const prefix = DEFAULT_AWS_PLATFORM.platform.tablePrefix;

type Json = Record<string, unknown>;
function tableResource(template: Template, tableName: string): Json {
  const found = Object.values(template.findResources("AWS::DynamoDB::Table", { Properties: { TableName: tableName } }));
  expect(found, `table ${tableName}`).toHaveLength(1);
  return (found[0] as { Properties: Json }).Properties;
}
const keySchema = (pk: { name: string }, sk?: { name: string }) => [
  { AttributeName: pk.name, KeyType: "HASH" },
  ...(sk ? [{ AttributeName: sk.name, KeyType: "RANGE" }] : []),
];
const sortByName = <T extends { AttributeName: string }>(list: T[]) =>
  [...list].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));

describe("CellStack", () => {
  it("has exactly the service's tables", () => {
    expect(CELL_TABLE_NAMES.sort()).toEqual(Object.keys(CELL_TABLES).sort());
    cellTemplate.resourceCountIs("AWS::DynamoDB::Table", Object.keys(CELL_TABLES).length);
  });

  for (const [name, def] of Object.entries(CELL_TABLES)) {
    it(`builds ${name} from CELL_TABLES: keys, attributes, indexes, TTL`, () => {
      const props = tableResource(cellTemplate, cellTableNames(cellId, prefix)[name as keyof typeof CELL_TABLES]);
      expect(props.KeySchema).toEqual(keySchema(def.partitionKey, def.sortKey));
      expect(sortByName(props.AttributeDefinitions as { AttributeName: string }[])).toEqual(
        sortByName(def.attributeDefinitions.map((a) => ({ AttributeName: a.name, AttributeType: a.type }))),
      );
      const lsis = (props.LocalSecondaryIndexes ?? []) as Json[];
      expect(lsis).toEqual(
        def.localSecondaryIndexes.map((lsi) => ({
          IndexName: lsi.indexName,
          KeySchema: keySchema(def.partitionKey, lsi.sortKey),
          Projection: { ProjectionType: lsi.projection },
        })),
      );
      const gsis = (props.GlobalSecondaryIndexes ?? []) as Json[];
      expect(gsis).toEqual(
        def.globalSecondaryIndexes.map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
          Projection: { ProjectionType: gsi.projection },
        })),
      );
      expect(props.BillingMode).toBe(def.billingMode);
      if (def.ttlAttribute)
        expect(props.TimeToLiveSpecification).toEqual({ AttributeName: def.ttlAttribute, Enabled: true });
      else expect(props.TimeToLiveSpecification).toBeUndefined();
    });
  }

  it("protects every table: PITR, deletion protection, KMS encryption with its rotating key, retained", () => {
    const tables = cellTemplate.findResources("AWS::DynamoDB::Table");
    for (const table of Object.values(tables) as {
      Properties: Json;
      DeletionPolicy: string;
      UpdateReplacePolicy: string;
    }[]) {
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.Properties.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::GetAtt": [expect.stringMatching(/^TablesKey/), "Arn"] },
      });
      expect(table.DeletionPolicy).toBe("Retain");
      expect(table.UpdateReplacePolicy).toBe("Retain");
    }
    cellTemplate.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  const policy = () => {
    const policies = Object.values(cellTemplate.findResources("AWS::IAM::ManagedPolicy"));
    expect(policies).toHaveLength(1);
    return (policies[0] as { Properties: { PolicyDocument: { Statement: Json[] } } }).Properties.PolicyDocument
      .Statement;
  };
  const logicalIdOf = (name: keyof typeof CELL_TABLES) =>
    Object.keys(
      cellTemplate.findResources("AWS::DynamoDB::Table", {
        Properties: { TableName: cellTableNames(cellId, prefix)[name] },
      }),
    )[0] as string;
  const mentions = (statement: Json, name: keyof typeof CELL_TABLES) =>
    JSON.stringify(statement.Resource).includes(`"${logicalIdOf(name)}"`);
  const actionsOf = (statement: Json) => ([] as string[]).concat(statement.Action as string | string[]);
  const immutable = CELL_TABLE_NAMES.filter((n) => CELL_TABLES[n].ledgerImmutable);
  const mutable = CELL_TABLE_NAMES.filter((n) => !CELL_TABLES[n].ledgerImmutable);

  it("denies update and delete of ledger entries (and every append-only table) explicitly", () => {
    expect(immutable).toContain("entries");
    const deny = policy().find((s) => s.Effect === "Deny") as Json;
    expect(deny).toBeDefined();
    expect(actionsOf(deny)).toEqual(expect.arrayContaining(["dynamodb:UpdateItem", "dynamodb:DeleteItem"]));
    expect(actionsOf(deny).sort()).toEqual([...ENTRIES_DENIED_ACTIONS].sort());
    for (const name of immutable) expect(mentions(deny, name), name).toBe(true);
    for (const name of mutable) expect(mentions(deny, name), name).toBe(false);
  });

  it("grants no update, delete or batch write on append-only tables: PutItem (append) only", () => {
    for (const name of immutable) {
      const granted = policy()
        .filter((s) => s.Effect === "Allow" && mentions(s, name))
        .flatMap(actionsOf);
      for (const forbidden of ENTRIES_DENIED_ACTIONS) expect(granted, name).not.toContain(forbidden);
      expect(granted, name).toContain("dynamodb:PutItem");
      expect(granted.some((a) => a.includes("*"))).toBe(false);
    }
    // the mutable tables do get their writes
    for (const name of mutable) {
      const granted = policy()
        .filter((s) => s.Effect === "Allow" && mentions(s, name))
        .flatMap(actionsOf);
      expect(granted, name).toEqual(expect.arrayContaining(["dynamodb:PutItem", "dynamodb:UpdateItem"]));
    }
  });

  it("lets only the cell's ServiceAccount assume its role (IRSA)", () => {
    cellTemplate.hasResourceProperties("AWS::IAM::Role", {
      RoleName: `${prefix}-${cellId}`,
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: "sts:AssumeRoleWithWebIdentity",
            Principal: { Federated: DEFAULT_AWS_PLATFORM.oidc.providerArn },
            Condition: {
              StringEquals: {
                [`${DEFAULT_AWS_PLATFORM.oidc.issuer}:sub`]: `system:serviceaccount:${DEFAULT_AWS_PLATFORM.platform.namespace}:cellwallet-${cellId}`,
                [`${DEFAULT_AWS_PLATFORM.oidc.issuer}:aud`]: "sts.amazonaws.com",
              },
            },
          }),
        ],
      },
    });
  });

  it("makes one stack per configured cell", () => {
    expect(cells.map((s) => s.stackName)).toEqual(
      DEFAULT_AWS_PLATFORM.platform.cells.map((c) => `cellwallet-${c.cellId}`),
    );
  });
});

describe("ControlPlaneStack", () => {
  const template = Template.fromStack(controlPlane);
  it("builds the placement tables from PLACEMENT_TABLES, protected like the cells'", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", PLACEMENT_TABLE_NAMES.length + 1);
    const names = placementTableNames(prefix);
    for (const name of PLACEMENT_TABLE_NAMES) {
      const def = PLACEMENT_TABLES[name];
      const props = tableResource(template, names[name]);
      expect(props.KeySchema).toEqual(keySchema(def.partitionKey));
      expect(props.AttributeDefinitions).toEqual(
        def.attributeDefinitions.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
      );
      expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(props.DeletionProtectionEnabled).toBe(true);
      expect(props.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: "KMS" });
    }
  });
  it("builds the rollouts table from ROLLOUT_TABLE, protected the same way", () => {
    const props = tableResource(template, rolloutTableName(prefix));
    expect(props.KeySchema).toEqual(keySchema(ROLLOUT_TABLE.partitionKey));
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.DeletionProtectionEnabled).toBe(true);
    expect(props.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: "KMS" });
  });
});

describe("ControlPlaneStack roles", () => {
  const template = Template.fromStack(controlPlane);
  const policyOf = (name: string) => {
    const found = Object.values(
      template.findResources("AWS::IAM::ManagedPolicy", { Properties: { ManagedPolicyName: name } }),
    );
    expect(found).toHaveLength(1);
    return (found[0] as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties
      .PolicyDocument.Statement;
  };
  it("gives the control plane's jobs read-only access", () => {
    const actions = policyOf(`${prefix}-operator`).flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions.filter((a) => a.startsWith("dynamodb:")).sort()).toEqual(
      ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"].sort(),
    );
  });
  it("lets the routers onboard users but never delete", () => {
    const actions = policyOf(`${prefix}-router`).flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions).toEqual(expect.arrayContaining(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"]));
    expect(actions.some((a) => a.includes("Delete") || a.includes("*Item*"))).toBe(false);
  });
});

describe("EdgeStack", () => {
  const template = Template.fromStack(edge);
  const azs = DEFAULT_AWS_PLATFORM.platform.azs;
  it("has one weighted alias record per AZ, each with a health check on the router's /ready", () => {
    template.resourceCountIs("AWS::Route53::HealthCheck", azs.length);
    template.resourceCountIs("AWS::Route53::RecordSet", azs.length);
    for (const lb of DEFAULT_AWS_PLATFORM.loadBalancers) {
      template.hasResourceProperties("AWS::Route53::RecordSet", {
        Name: DEFAULT_AWS_PLATFORM.domainName,
        SetIdentifier: lb.az,
        Weight: 100,
        HealthCheckId: Match.anyValue(),
        AliasTarget: { DNSName: lb.dnsName, HostedZoneId: lb.canonicalHostedZoneId, EvaluateTargetHealth: true },
      });
      template.hasResourceProperties("AWS::Route53::HealthCheck", {
        HealthCheckConfig: Match.objectLike({ FullyQualifiedDomainName: lb.dnsName, ResourcePath: "/ready" }),
      });
    }
  });
  it("has error-rate and p99 alarms for every cell in every AZ, under the names the rollout controller watches", () => {
    const cellsIds = DEFAULT_AWS_PLATFORM.platform.cells.map((c) => c.cellId);
    template.resourceCountIs("AWS::CloudWatch::Alarm", cellsIds.length * azs.length * 2);
    for (const id of cellsIds) {
      for (const az of azs) {
        const names = cellAlarmNames("cellwallet", id, az);
        template.hasResourceProperties("AWS::CloudWatch::Alarm", { AlarmName: names.errorRate, Threshold: 1 });
        const p99 = Object.values(
          template.findResources("AWS::CloudWatch::Alarm", { Properties: { AlarmName: names.p99Latency } }),
        ) as { Properties: { ExtendedStatistic: string; Dimensions: { Name: string; Value: string }[] } }[];
        expect(p99).toHaveLength(1);
        expect(p99[0]?.Properties.ExtendedStatistic).toBe("p99");
        expect(p99[0]?.Properties.Dimensions).toEqual(
          expect.arrayContaining([
            { Name: "cell", Value: id },
            { Name: "az", Value: az },
          ]),
        );
      }
    }
  });
});
