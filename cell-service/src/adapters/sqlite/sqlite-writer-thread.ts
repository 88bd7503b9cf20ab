import { Worker } from "node:worker_threads";
import type { BatchOperation, BatchReply } from "./commit-batch.js";
import type { CommitWorkerData } from "./commit-worker.js";

/**
 * Where the writer thread's script is. Under vitest this module runs from its TypeScript source, but a worker
 * thread is plain Node: it always runs the compiled script (`npm test` builds before it runs the tests).
 */
function workerScript(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts")
    ? new URL("../../../dist/adapters/sqlite/commit-worker.js", here)
    : new URL("./commit-worker.js", here);
}

/**
 * The process's Node options a worker can take and that concern it (profiling, diagnostics). Not the rest: a test
 * runner's `--conditions source` names TypeScript, and options such as `--input-type` are refused in a worker.
 */
const FOR_THE_WORKER = ["--cpu-prof", "--heap-prof", "--enable-source-maps", "--stack-trace-limit", "--trace-"];

function workerExecArgv(): string[] {
  return process.execArgv.filter((arg) => FOR_THE_WORKER.some((prefix) => arg.startsWith(prefix)));
}

/**
 * The request thread's side of the SQLite writer thread: sends one batch at a time and hands back its reply.
 * The thread keeps the process alive only while a batch is in flight. If it dies, every batch in flight and
 * every later one fails: whether an in-flight batch was committed is unknown, which a client learns as a 5xx
 * and settles by retrying with its Idempotency-Key.
 */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(reply: BatchReply): void; reject(error: Error): void }>();
  private nextBatchId = 1;
  private failed: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(data: CommitWorkerData) {
    this.worker = new Worker(workerScript(), {
      workerData: data,
      execArgv: workerExecArgv(),
      // It allocates little (rows and batch messages): a small young generation keeps the cell's RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    this.worker.on("message", (reply: BatchReply) => {
      const waiter = this.waiting.get(reply.batchId);
      this.waiting.delete(reply.batchId);
      if (this.waiting.size === 0) this.worker.unref();
      waiter?.resolve(reply);
    });
    this.worker.on("error", (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        this.fail(new Error(`the SQLite writer thread exited (code ${code})`));
        resolve();
      }),
    );
  }

  write(operations: BatchOperation[]): Promise<BatchReply> {
    if (this.failed) return Promise.reject(this.failed);
    const batchId = this.nextBatchId++;
    return new Promise<BatchReply>((resolve, reject) => {
      this.waiting.set(batchId, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ batchId, operations });
    });
  }

  /** Why the thread can write no more (it failed or ended), or undefined while it can. */
  failure(): Error | undefined {
    return this.failed;
  }

  /** Closes the writer's connection and waits for the thread to end (after the last batch was answered). */
  async close(): Promise<void> {
    if (!this.failed) {
      // Kept alive until it has ended: awaiting an unreferenced thread lets the process exit under the await.
      this.worker.ref();
      this.worker.postMessage({ close: true });
    }
    await this.exited;
  }

  private fail(error: Error): void {
    this.failed ??= new Error(`the ledger's SQLite writer failed: ${error.message}`);
    for (const waiter of this.waiting.values()) waiter.reject(this.failed);
    this.waiting.clear();
  }
}
