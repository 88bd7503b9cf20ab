import { parentPort, workerData } from "node:worker_threads";
import type { BatchRequest } from "./commit-batch.js";
import { SqliteBatchWriter } from "./sqlite-batch-writer.js";
import { openLedgerDatabase, prepareStatements } from "./sqlite-handle.js";

/**
 * The SQLite writer thread: owns the connection that writes the money path, so the fsync of each group commit
 * blocks this thread and never the one that parses and answers requests. Batches arrive one at a time.
 */
export interface CommitWorkerData {
  path: string;
  busyTimeoutMs?: number;
}

const port = parentPort;
if (!port) throw new Error("commit-worker.js runs as a worker thread");
const { path, busyTimeoutMs } = workerData as CommitWorkerData;
const db = openLedgerDatabase(path, busyTimeoutMs);
const writer = new SqliteBatchWriter(db, prepareStatements(db));

port.on("message", (message: BatchRequest | { close: true }) => {
  if ("close" in message) {
    db.close();
    port.close();
    return;
  }
  port.postMessage(writer.write(message));
});
