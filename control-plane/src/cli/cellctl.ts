import { startTracing } from "@cellwallet/telemetry";
import { Command } from "commander";
import { auditLogCommand } from "./audit-log-command.js";
import { azCommand } from "./az-command.js";
import { canaryCommand } from "./canary-command.js";
import { cellsCommand } from "./cells-command.js";
import { checkpointsCommand } from "./checkpoints-command.js";
import { reconcileCommand } from "./reconcile-command.js";
import { rolloutCommand } from "./rollout-command.js";
import { tokenCommand } from "./token-command.js";
import { usersCommand } from "./users-command.js";
import { verifyCommand } from "./verify-command.js";
import { versionsCommand } from "./versions-command.js";

/** cellctl: the operators' and CI's command line for the Cellwallet platform. */
export function buildCellctl(env: NodeJS.ProcessEnv): Command {
  return new Command("cellctl")
    .description("Operate the Cellwallet platform")
    .showHelpAfterError()
    .addCommand(tokenCommand(env))
    .addCommand(verifyCommand(env))
    .addCommand(checkpointsCommand(env))
    .addCommand(reconcileCommand(env))
    .addCommand(auditLogCommand(env))
    .addCommand(cellsCommand(env))
    .addCommand(azCommand(env))
    .addCommand(rolloutCommand(env))
    .addCommand(versionsCommand(env))
    .addCommand(usersCommand(env))
    .addCommand(canaryCommand(env));
}

// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then migrations and rollouts are traced (docs/observability.md).
const tracing = await startTracing("cellctl", { "service.version": process.env.CELL_VERSION ?? "dev" });
try {
  await buildCellctl(process.env).parseAsync(process.argv);
} finally {
  await tracing?.shutdown().catch(() => undefined);
}
