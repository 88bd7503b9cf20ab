#!/usr/bin/env node
import { answerClientErrorsWithProblems } from "@cellwallet/contract";
import { openPlacementStore } from "@cellwallet/placement";
import { startTracing } from "@cellwallet/telemetry";
import { serve } from "@hono/node-server";
import { type RouterConfig, routerConfigFromEnv } from "./config.js";
import { createLogger, createRouter } from "./create-router.js";

/** The cell-router process: one router in one AZ. Configured by environment (see cell-router/README.md). */
async function main(): Promise<void> {
  let config: RouterConfig;
  try {
    config = routerConfigFromEnv(process.env);
  } catch (error) {
    console.error(`cell-router: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger(config);
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md#tracing).
  const tracing = await startTracing("cell-router", {
    az: config.az,
    "service.version": process.env.ROUTER_VERSION ?? process.env.CELL_VERSION ?? "dev",
  });
  const store = openPlacementStore(config.placementStore);
  const router = createRouter(config, store, logger);
  await router.start();
  if (!router.directory.ready) {
    logger.warn("no cell registry yet (placement store unreachable, no state file): not ready until one is read");
  }

  const server = serve({ fetch: router.app.fetch, hostname: config.host, port: config.port }, (info) => {
    logger.info(
      { port: info.port, host: config.host, placementStore: config.placementStore.kind, stateFile: config.stateFile },
      "cell-router listening",
    );
  });
  answerClientErrorsWithProblems(server);

  // A port already taken (another platform's process, a previous run left behind) ends the process with one
  // line saying so, the last line of its stderr, which is what a launcher reports.
  server.once("error", (error: NodeJS.ErrnoException) => {
    const why = error.code === "EADDRINUSE" ? "the port is in use by another process (EADDRINUSE)" : error.message;
    console.error(`cell-router: cannot listen on ${config.host}:${config.port}: ${why}`);
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    router.setReady(false);
    server.close(async () => {
      await router.close();
      await store.close();
      await tracing?.shutdown().catch(() => undefined);
      process.exit(0);
    });
    // Idle keep-alive connections would hold close() open.
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  // The stack for whoever debugs it, then the reason as the last line (what a launcher reports).
  console.error(error);
  console.error(`cell-router failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
