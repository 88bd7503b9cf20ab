import {
  type CellEndpoint,
  ensurePlacementTables,
  type PlacementStore,
  type PlacementStoreConfig,
} from "@cellwallet/placement";
import { createDynamoDbClient } from "@cellwallet/store-support/dynamodb";

/** What the local launcher does to the placement registry before it starts anything. */

/** Locally (moto) the launcher creates the control plane's tables; in AWS the infrastructure does. */
export async function ensureLocalControlTables(
  config: PlacementStoreConfig,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  if (config.kind !== "dynamodb" || !config.endpoint) return;
  const client = createDynamoDbClient({ endpoint: config.endpoint, region: config.region, credentials });
  try {
    await ensurePlacementTables(client, config.tablePrefix);
  } finally {
    client.destroy();
  }
}

/**
 * Registers the local cells with this run's endpoints (idempotent: a cell keeps its state, capacity and AZ
 * weights from an earlier run; only the URLs are refreshed).
 */
export async function registerLocalCells(
  store: PlacementStore,
  cells: readonly { cellId: string; endpoints: readonly Omit<CellEndpoint, "weight">[] }[],
  capacity: number,
): Promise<void> {
  for (const { cellId, endpoints } of cells) {
    const existing = await store.getCell(cellId);
    await store.putCell({
      cellId,
      state: existing?.state ?? "active",
      capacity: existing?.capacity ?? capacity,
      endpoints: endpoints.map(({ az, url }) => ({
        az,
        url,
        weight: existing?.endpoints.find((e) => e.az === az)?.weight ?? 1,
      })),
    });
  }
}
