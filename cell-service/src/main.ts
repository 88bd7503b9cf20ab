#!/usr/bin/env node
import { answerClientErrorsWithProblems } from "@cellwallet/contract";
import { startTracing } from "@cellwallet/telemetry";
import { serve } from "@hono/node-server";
import { SqliteLedgerStore } from "./adapters/sqlite/sqlite-ledger-store.js";
import { cellConfigFromEnv } from "./config.js";
import { createCell, createLogger } from "./create-cell.js";

/** The cell-service process: one cell replica in one AZ. Configured by environment (see README). */
async function main(): Promise<void> {
  let config: ReturnType<typeof cellConfigFromEnv>;
  try {
    config = cellConfigFromEnv(process.env);
  } catch (error) {
    console.error(`cell-service: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger(config);
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md#tracing).
  const tracing = await startTracing(
    "cell-service",
    { "cell.id": config.cellId, az: config.az, "service.version": config.version },
    process.env,
    { awsSdk: true },
  );
  // Loaded only now: the AWS SDK's instrumentation patches the SDK as it is first loaded.
  const { createLedgerStore } = await import("./create-store.js");
  const store = await createLedgerStore(config.cellId, config.store);
  const cell = createCell(config, store, logger);

  const sweeper =
    store instanceof SqliteLedgerStore
      ? setInterval(() => store.sweepIdempotency(Date.now()), 3600_000).unref()
      : undefined;

  cell.worker?.start();
  cell.checkpoints?.start();
  cell.verification?.start();
  const server = serve({ fetch: cell.app.fetch, hostname: config.host, port: config.port }, (info) => {
    logger.info({ port: info.port, host: config.host, store: config.store.kind }, "cell-service listening");
  });
  answerClientErrorsWithProblems(server);

  // A port already taken (another platform's process, a previous run left behind) ends the process with one
  // line saying so, the last line of its stderr, which is what a launcher reports.
  server.once("error", (error: NodeJS.ErrnoException) => {
    const why = error.code === "EADDRINUSE" ? "the port is in use by another process (EADDRINUSE)" : error.message;
    console.error(`cell-service: cannot listen on ${config.host}:${config.port}: ${why}`);
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    cell.setReady(false);
    if (sweeper) clearInterval(sweeper);
    cell.worker?.stop();
    cell.checkpoints?.stop();
    cell.verification?.stop();
    server.close(async () => {
      await store.close();
      await tracing?.shutdown().catch(() => undefined);
      process.exit(0);
    });
    // Keep-alive connections become idle as their last request finishes: close them as they do.
    const closer = server as unknown as { closeIdleConnections?: () => void };
    closer.closeIdleConnections?.();
    setInterval(() => closer.closeIdleConnections?.(), 50).unref();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  // The stack for whoever debugs it, then the reason as the last line (what a launcher reports).
  console.error(error);
  console.error(`cell-service failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
