import { startTracing } from "@cellwallet/telemetry";
import { runCellctl } from "./cellctl-program.js";

// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then migrations and rollouts are traced (docs/observability.md).
const tracing = await startTracing("cellctl", { "service.version": process.env.CELL_VERSION ?? "dev" });
try {
  process.exitCode = await runCellctl(process.argv, process.env);
} finally {
  await tracing?.shutdown().catch(() => undefined);
}
