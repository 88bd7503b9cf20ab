import type { TableDefinition } from "@cellwallet/store-support/dynamodb";
import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

/** One more Region holding a replica of every cell table, and the KMS key there that encrypts it. */
export interface ReplicaRegion {
  readonly region: string;
  /** A customer-managed key in that Region (e.g. a multi-Region key's replica). */
  readonly kmsKeyArn: string;
}

/**
 * Opt-in multi-Region mode of the cell tables: DynamoDB global tables with
 * multi-Region EVENTUAL consistency (MREC). Not strong (MRSC): the ledger
 * commits every operation with TransactWriteItems across tables and uses LSIs
 * and TTL, which MRSC tables do not support (docs/disaster-recovery.md). One
 * Region writes a cell at a time; the others are warm standbys that must
 * verify and reconcile before taking writes.
 */
export interface MultiRegionTables {
  readonly replicas: readonly ReplicaRegion[];
}

const attribute = (key: { name: string; type: "S" | "N" }): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});
const projection = (p: "ALL" | "KEYS_ONLY") =>
  p === "ALL" ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY;

/** The same table as tableFromDefinition (keys, indexes, PITR, CMK, TTL, RETAIN), as a global table. */
export function globalTableFromDefinition(
  scope: Construct,
  id: string,
  tableName: string,
  definition: TableDefinition,
  key: kms.IKey,
  multiRegion: MultiRegionTables,
): dynamodb.TableV2 {
  if (multiRegion.replicas.length === 0) throw new Error("multi-Region tables need at least one replica Region");
  return new dynamodb.TableV2(scope, id, {
    tableName,
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    billing: dynamodb.Billing.onDemand(),
    multiRegionConsistency: dynamodb.MultiRegionConsistency.EVENTUAL,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    encryption: dynamodb.TableEncryptionV2.customerManagedKey(
      key,
      Object.fromEntries(multiRegion.replicas.map((r) => [r.region, r.kmsKeyArn])),
    ),
    ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
    localSecondaryIndexes: (definition.localSecondaryIndexes ?? []).map((lsi) => ({
      indexName: lsi.indexName,
      sortKey: attribute(lsi.sortKey),
      projectionType: projection(lsi.projection),
    })),
    globalSecondaryIndexes: (definition.globalSecondaryIndexes ?? []).map((gsi) => ({
      indexName: gsi.indexName,
      partitionKey: attribute(gsi.partitionKey),
      ...(gsi.sortKey ? { sortKey: attribute(gsi.sortKey) } : {}),
      projectionType: projection(gsi.projection),
    })),
    replicas: multiRegion.replicas.map((r) => ({
      region: r.region,
      deletionProtection: true,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    })),
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
