import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { LedgerStore } from "../cell-service/src/application/ledger-store.js";
import { type CellConfig, cellConfigFromEnv } from "../cell-service/src/config.js";
import { type Cell, createCell, createLogger } from "../cell-service/src/create-cell.js";

export interface InProcessCell {
  url: string;
  cell: Cell;
  close(): Promise<void>;
}

/**
 * Serves a cell over real HTTP on a loopback port inside the test process: the
 * whole HTTP stack without the cost of a process start. (Process-level
 * behaviour is covered by tests that use startCellProcess.)
 */
export async function startInProcessCell(
  store: LedgerStore,
  env: Record<string, string> = {},
  listenPort = 0,
): Promise<InProcessCell> {
  const config: CellConfig = cellConfigFromEnv({ CELL_ID: "cell-test", AZ: "az-1", LOG_LEVEL: "silent", ...env });
  const cell = createCell(config, store, createLogger(config));
  const server = serve({ fetch: cell.app.fetch, hostname: "127.0.0.1", port: listenPort });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    cell,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
