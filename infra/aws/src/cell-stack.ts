import { CELL_TABLES, cellTableNames } from "@cellwallet/cell-service";
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import { globalTableFromDefinition, type MultiRegionTables } from "./global-tables.js";
import { type ClusterOidc, irsaRole } from "./irsa.js";
import { tableAndIndexArns, tableFromDefinition } from "./tables.js";

/** The service exports CELL_TABLES (not its name list): the names are its keys. */
export type CellTableName = keyof typeof CELL_TABLES;
export const CELL_TABLE_NAMES = Object.keys(CELL_TABLES) as CellTableName[];

export interface CellStackProps extends StackProps {
  readonly cellId: string;
  readonly tablePrefix: string;
  readonly namespace: string;
  readonly oidc: ClusterOidc;
  /** Opt-in: the cell tables as global tables replicated to these Regions (multi-Region eventual consistency). */
  readonly multiRegion?: MultiRegionTables;
}

/** What the service does with items: reads everywhere, writes where items may change. */
export const CELL_READ_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
];
export const CELL_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];
/**
 * Ledger entries are append-only: no role may change or remove one. Denied explicitly on the table and
 * its indexes, so no other grant attached to the role can lift it. BatchWriteItem and PartiQL are denied
 * too because they carry deletes and updates under their own action names.
 */
export const ENTRIES_DENIED_ACTIONS = [
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:PartiQLUpdate",
  "dynamodb:PartiQLDelete",
];

/**
 * The AWS resources of ONE cell: its DynamoDB tables, built from CELL_TABLES (the module the service's
 * ensure-tables also reads), the key that encrypts them, and the service's IRSA role with a least-privilege
 * managed policy.
 *
 * Entries are written only as `Put` items of TransactWriteItems with `attribute_not_exists`; DynamoDB
 * authorizes each transaction item by its own action, so the role needs dynamodb:PutItem on the entries
 * table. IAM cannot require a condition expression, so PutItem would also let a caller holding these
 * credentials *replace* an entry: that residual risk is bounded by the service's code (every entry Put is
 * conditional) and by point-in-time recovery. Update and delete are denied outright.
 */
export class CellStack extends Stack {
  readonly tables: Record<CellTableName, dynamodb.ITable>;
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: CellStackProps) {
    super(scope, id, props);
    const names = cellTableNames(props.cellId, props.tablePrefix);
    this.key = new kms.Key(this, "TablesKey", {
      description: `DynamoDB tables of cell ${props.cellId}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      alias: `alias/${props.tablePrefix}-${props.cellId}-tables`,
    });
    const tables = {} as Record<CellTableName, dynamodb.ITable>;
    for (const name of CELL_TABLE_NAMES) {
      tables[name] = props.multiRegion
        ? globalTableFromDefinition(
            this,
            `${pascal(name)}Table`,
            names[name],
            CELL_TABLES[name],
            this.key,
            props.multiRegion,
          )
        : tableFromDefinition(this, `${pascal(name)}Table`, names[name], CELL_TABLES[name], this.key);
    }
    this.tables = tables;

    const mutable = CELL_TABLE_NAMES.filter((name) => !CELL_TABLES[name].ledgerImmutable);
    const immutable = CELL_TABLE_NAMES.filter((name) => CELL_TABLES[name].ledgerImmutable);
    const arns = (list: readonly CellTableName[]) => list.flatMap((name) => tableAndIndexArns(tables[name]));
    this.policy = new iam.ManagedPolicy(this, "ServicePolicy", {
      managedPolicyName: `${props.tablePrefix}-${props.cellId}-service`,
      description: `Least privilege of cell ${props.cellId}'s service: no update or delete of ledger entries`,
      statements: [
        new iam.PolicyStatement({
          sid: "ReadCellTables",
          actions: CELL_READ_ACTIONS,
          resources: arns(CELL_TABLE_NAMES),
        }),
        new iam.PolicyStatement({
          sid: "WriteMutableTables",
          actions: CELL_WRITE_ACTIONS,
          resources: mutable.map((name) => tables[name].tableArn),
        }),
        new iam.PolicyStatement({
          sid: "AppendLedgerEntries",
          actions: ["dynamodb:PutItem"],
          resources: immutable.map((name) => tables[name].tableArn),
        }),
        new iam.PolicyStatement({
          sid: "DenyLedgerEntryChanges",
          effect: iam.Effect.DENY,
          actions: ENTRIES_DENIED_ACTIONS,
          resources: arns(immutable),
        }),
        new iam.PolicyStatement({
          sid: "UseTablesKey",
          actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
          resources: [this.key.keyArn],
          conditions: { StringEquals: { "kms:ViaService": `dynamodb.${this.region}.amazonaws.com` } },
        }),
      ],
    });
    this.role = irsaRole(
      this,
      "ServiceRole",
      props.oidc,
      props.namespace,
      `cellwallet-${props.cellId}`,
      `${props.tablePrefix}-${props.cellId}`,
    );
    this.role.addManagedPolicy(this.policy);
    new CfnOutput(this, "ServiceRoleArn", { value: this.role.roleArn, description: "eks.amazonaws.com/role-arn" });
    for (const name of CELL_TABLE_NAMES) new CfnOutput(this, `${pascal(name)}TableName`, { value: names[name] });
  }
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
