import { ROLLOUT_TABLE, rolloutTableName } from "@cellwallet/control-plane/rollout";
import {
  PLACEMENT_TABLE_NAMES,
  PLACEMENT_TABLES,
  type PlacementTableName,
  placementTableNames,
} from "@cellwallet/placement";
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import { globalTableFromDefinition, type MultiRegionTables } from "./global-tables.js";
import { type ClusterOidc, irsaRole } from "./irsa.js";
import { tableAndIndexArns, tableFromDefinition } from "./tables.js";

export interface ControlPlaneStackProps extends StackProps {
  readonly tablePrefix: string;
  readonly namespace: string;
  readonly oidc: ClusterOidc;
  /** Opt-in: the placement registry replicated to these Regions too (the other Region's routers read it). */
  readonly multiRegion?: MultiRegionTables;
}

/**
 * The control plane's tables (cell registry, user placements, overrides), built from PLACEMENT_TABLES,
 * and the routers' IRSA role: they read the registry and placements and onboard new users (a transaction
 * that puts the placement and updates the cell's counters); and the read-only role of the control plane's
 * jobs.
 */
export class ControlPlaneStack extends Stack {
  readonly tables: Record<PlacementTableName, dynamodb.ITable>;
  /** Rollout state (`cellctl rollout`), from ROLLOUT_TABLE: written by the CI deploy job's controller. */
  readonly rolloutsTable: dynamodb.Table;
  readonly routerRole: iam.Role;
  readonly operatorRole: iam.Role;

  constructor(scope: Construct, id: string, props: ControlPlaneStackProps) {
    super(scope, id, props);
    const names = placementTableNames(props.tablePrefix);
    const key = new kms.Key(this, "TablesKey", {
      description: "DynamoDB tables of the control plane",
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      alias: `alias/${props.tablePrefix}-control-plane-tables`,
    });
    const tables = {} as Record<PlacementTableName, dynamodb.ITable>;
    for (const name of PLACEMENT_TABLE_NAMES) {
      const id = `${name.charAt(0).toUpperCase()}${name.slice(1)}Table`;
      tables[name] = props.multiRegion
        ? globalTableFromDefinition(this, id, names[name], PLACEMENT_TABLES[name], key, props.multiRegion)
        : tableFromDefinition(this, id, names[name], PLACEMENT_TABLES[name], key);
    }
    this.tables = tables;
    this.rolloutsTable = tableFromDefinition(
      this,
      "RolloutsTable",
      rolloutTableName(props.tablePrefix),
      ROLLOUT_TABLE,
      key,
    );
    this.routerRole = irsaRole(
      this,
      "RouterRole",
      props.oidc,
      props.namespace,
      "cellwallet-router",
      `${props.tablePrefix}-router`,
    );
    const policy = new iam.ManagedPolicy(this, "RouterPolicy", {
      managedPolicyName: `${props.tablePrefix}-router`,
      description: "Routers: read the registry and placements, onboard users",
      statements: [
        new iam.PolicyStatement({
          sid: "ReadPlacement",
          actions: ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable"],
          resources: PLACEMENT_TABLE_NAMES.flatMap((name) => tableAndIndexArns(tables[name])),
        }),
        new iam.PolicyStatement({
          sid: "OnboardUsers",
          actions: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
          resources: [tables.placements.tableArn, tables.cells.tableArn],
        }),
        new iam.PolicyStatement({
          sid: "UseTablesKey",
          actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
          resources: [key.keyArn],
          conditions: { StringEquals: { "kms:ViaService": `dynamodb.${this.region}.amazonaws.com` } },
        }),
      ],
    });
    this.routerRole.addManagedPolicy(policy);
    new CfnOutput(this, "RouterRoleArn", { value: this.routerRole.roleArn });

    // The control plane's jobs (nightly `cellctl verify --all`): read the registry, nothing else.
    this.operatorRole = irsaRole(
      this,
      "OperatorRole",
      props.oidc,
      props.namespace,
      "cellwallet-operator",
      `${props.tablePrefix}-operator`,
    );
    this.operatorRole.addManagedPolicy(
      new iam.ManagedPolicy(this, "OperatorPolicy", {
        managedPolicyName: `${props.tablePrefix}-operator`,
        description: "Control-plane jobs: read-only on the placement tables",
        statements: [
          new iam.PolicyStatement({
            sid: "ReadPlacement",
            actions: ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable"],
            resources: PLACEMENT_TABLE_NAMES.flatMap((name) => tableAndIndexArns(tables[name])),
          }),
          new iam.PolicyStatement({
            sid: "DecryptTables",
            actions: ["kms:Decrypt", "kms:DescribeKey"],
            resources: [key.keyArn],
            conditions: { StringEquals: { "kms:ViaService": `dynamodb.${this.region}.amazonaws.com` } },
          }),
        ],
      }),
    );
    new CfnOutput(this, "OperatorRoleArn", { value: this.operatorRole.roleArn });
  }
}
