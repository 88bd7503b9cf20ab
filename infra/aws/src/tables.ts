import type { TableDefinition } from "@cellwallet/store-support/dynamodb";
import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

const attribute = (key: { name: string; type: "S" | "N" }): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});
const projection = (p: "ALL" | "KEYS_ONLY") =>
  p === "ALL" ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY;

/**
 * A production table built from a table definition: its keys and indexes, on-demand billing,
 * point-in-time recovery, deletion protection, encryption with the given customer-managed key,
 * TTL where defined, and RETAIN so that deleting a stack never deletes data.
 */
export function tableFromDefinition(
  scope: Construct,
  id: string,
  tableName: string,
  definition: TableDefinition,
  key: kms.IKey,
): dynamodb.Table {
  if (definition.billingMode !== "PAY_PER_REQUEST")
    throw new Error(`unsupported billing mode ${definition.billingMode}`);
  const table = new dynamodb.Table(scope, id, {
    tableName,
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const lsi of definition.localSecondaryIndexes ?? []) {
    table.addLocalSecondaryIndex({
      indexName: lsi.indexName,
      sortKey: attribute(lsi.sortKey),
      projectionType: projection(lsi.projection),
    });
  }
  for (const gsi of definition.globalSecondaryIndexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: gsi.indexName,
      partitionKey: attribute(gsi.partitionKey),
      ...(gsi.sortKey ? { sortKey: attribute(gsi.sortKey) } : {}),
      projectionType: projection(gsi.projection),
    });
  }
  return table;
}

/** ARNs of a table and of all its indexes. */
export function tableAndIndexArns(table: dynamodb.ITable): string[] {
  return [table.tableArn, `${table.tableArn}/index/*`];
}
