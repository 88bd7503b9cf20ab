import { mintToken, SCOPES } from "@cellwallet/contract";
import type { CellRecord, PlacementStore } from "@cellwallet/placement";
import { Command, InvalidArgumentError, Option } from "commander";
import { type CanaryTokens, canaryUsers, type JourneyResult, runJourney } from "../canary/canary-journey.js";
import { CanaryMetrics } from "../canary/canary-metrics.js";
import {
  auditorToken,
  noCellMessage,
  operatorName,
  recordOperatorAction,
  signingSecret,
  withPlacementStore,
} from "./cli-env.js";
import { port } from "./cli-options.js";
import { localRouterUrl } from "./launcher-status-lines.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

/** Milliseconds from "10s", "500ms", "1m" or a plain number of ms, 100ms..60m (a usage error otherwise). */
function parseInterval(value: string): number {
  const match = /^([0-9]+)(ms|s|m)?$/.exec(value);
  const ms = match ? Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 }[match[2] ?? "ms"] ?? 1) : Number.NaN;
  if (!(ms >= 100 && ms <= 3_600_000)) throw new InvalidArgumentError("100ms..60m, e.g. 10s, 500ms, 1m");
  return ms;
}

interface CanaryOptions {
  cell?: string[];
  all?: boolean;
  interval: number;
  once?: boolean;
  metricsPort?: number;
  router?: string;
  az: string;
  json?: boolean;
}

/**
 * Pins each cell's two canary users to it (a placement override, recorded in the operator audit trail the
 * first time); a canary already placed elsewhere (its cell drained, say) is reported, not moved.
 */
async function pinCanaries(env: NodeJS.ProcessEnv, store: PlacementStore, cells: CellRecord[]): Promise<string[]> {
  const problems: string[] = [];
  for (const cell of cells) {
    for (const user of canaryUsers(cell.cellId)) {
      if ((await store.getOverride(user)) !== cell.cellId) {
        await recordOperatorAction(env, {
          actor: operatorName(env),
          action: "canary.pin",
          target: user,
          details: { cellId: cell.cellId },
        });
        await store.setOverride(user, cell.cellId);
      }
      const placed = await store.getUserPlacement(user);
      if (placed && placed.cellId !== cell.cellId) {
        problems.push(
          `${user} is placed in ${placed.cellId}: move it back with cellctl users migrate ${user} --to ${cell.cellId}`,
        );
      }
    }
  }
  return problems;
}

function printResults(results: JourneyResult[], json: boolean): void {
  if (json) {
    printJson({ journeys: results });
    return;
  }
  for (const r of results) {
    const steps = r.steps.map((s) => `${s.step} ${Math.round(s.seconds * 1000)}ms${s.ok ? "" : " FAILED"}`).join(", ");
    console.log(
      `${r.cellId}: ${r.ok ? "ok" : `FAILED (${r.failure})`} in ${Math.round(r.seconds * 1000)} ms — ${steps}`,
    );
  }
}

/** `cellctl canary run`: synthetic customer journeys per cell, through the router, with Prometheus metrics. */
export function canaryCommand(env: NodeJS.ProcessEnv): Command {
  const canary = new Command("canary").description(
    "Synthetic customer journeys per cell (canary users pinned to each cell)",
  );
  canary
    .command("run")
    .description(
      "Run the canary journey in each chosen cell every --interval (or --once), exporting cellwallet_canary_*",
    )
    .option("--cell <cellId...>", "the cell(s) to test")
    .option("--all", "every active, cordoned or draining cell of the registry")
    .addOption(
      new Option("--interval <duration>", "time between journeys of a cell, e.g. 10s, 500ms, 1m")
        .argParser(parseInterval)
        .default(10_000, "10s"),
    )
    .option("--once", "run one journey per cell and exit: 0 all passed, 1 one failed")
    .option("--metrics-port <port>", "serve cellwallet_canary_* on http://127.0.0.1:<port>/metrics", port)
    .option(
      "--router <url>",
      "the router the journeys go through (default http://127.0.0.1:$ROUTER_PORT, else the --az router of the local platform running in WALLET_DATA_DIR, else :8080)",
    )
    .option("--az <az>", "the AZ this canary runs from (the az label of its metrics)", "az-1")
    .option("--json", "print each round's results as JSON")
    .addHelpText(
      "after",
      `
Each cell gets two canary users, canary-<cell>-a and canary-<cell>-b, pinned to it by placement overrides. A
journey, through the public API as a customer's: both wallets (created on the first run), a deposit of 0.01 into
the first, a transfer of 0.01 to the second, the first's history (the deposit is there), its historical balance
and its chain's audit. Canary money never leaves the two canary wallets, so reconciliation stays exact.

Exit status: 0 every journey passed (--once) or stopped by Ctrl-C/SIGTERM, 1 a journey failed (--once),
2 usage, an unknown cell, or no cell to test in the registry.

Examples:
  $ cellctl canary run --all --once
  $ cellctl canary run --cell cell-1 --interval 10s --metrics-port 9465
  $ cellctl canary run --all --router http://10.0.1.5:8080 --az az-2 --json`,
    )
    .action(async (options: CanaryOptions, command: Command) => {
      if (Boolean(options.all) === Boolean(options.cell?.length)) {
        return command.error("cellctl: give --cell <id> or --all", { exitCode: EXIT_USAGE });
      }
      const { interval, metricsPort } = options;
      const routerUrl =
        options.router ??
        (env.ROUTER_PORT ? `http://127.0.0.1:${env.ROUTER_PORT}` : undefined) ??
        localRouterUrl(env, options.az) ??
        "http://127.0.0.1:8080";
      try {
        new URL(routerUrl);
      } catch {
        return command.error(`cellctl: --router ${routerUrl} is not a URL`, { exitCode: EXIT_USAGE });
      }
      const { cells, problems } = await withPlacementStore(env, async (store) => {
        const registry = (await store.listCells()).filter((c) => c.state !== "retired");
        const chosen = options.all ? registry : registry.filter((c) => options.cell?.includes(c.cellId));
        const unknown = (options.cell ?? []).filter((id) => !registry.some((c) => c.cellId === id));
        if (unknown.length > 0) command.error(`cellctl: unknown cell ${unknown.join(", ")}`, { exitCode: EXIT_USAGE });
        // A wrong WALLET_DATA_DIR or PLACEMENT_* opens an empty registry: zero journeys must not read as "all passed".
        if (chosen.length === 0) {
          command.error(`cellctl: ${noCellMessage(env, "cell to test")}`, {
            exitCode: EXIT_USAGE,
          });
        }
        return { cells: chosen, problems: await pinCanaries(env, store, chosen) };
      });
      for (const p of problems) console.error(`cellctl: ${p}`);
      const secret = signingSecret(env);
      const userTokens = new Map<string, string>();
      const tokens: CanaryTokens = {
        user: async (userId) => {
          let t = userTokens.get(userId);
          if (!t) {
            t = await mintToken({ sub: userId, scopes: [SCOPES.wallet], secret, ttlSeconds: 3600 });
            userTokens.set(userId, t);
          }
          return t;
        },
        auditor: () => auditorToken(env, "canary"),
      };
      const metrics = new CanaryMetrics(options.az);
      const server = metricsPort !== undefined ? await metrics.serve(metricsPort) : undefined;
      const round = async () => {
        const results = await Promise.all(cells.map((c) => runJourney(routerUrl, c.cellId, tokens)));
        for (const r of results) metrics.record(r);
        printResults(results, Boolean(options.json));
        return results;
      };
      if (options.once) {
        const results = await round();
        server?.close();
        if (results.some((r) => !r.ok)) process.exitCode = EXIT_REFUSED;
        return;
      }
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      while (!stopped) {
        const began = Date.now();
        await round().catch((error: Error) => console.error(`cellctl: canary round failed: ${error.message}`));
        while (!stopped && Date.now() - began < interval) await new Promise((r) => setTimeout(r, 50));
      }
      server?.close();
    });
  return canary;
}
