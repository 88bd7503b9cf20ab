import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import type { Command } from "commander";
import { canaryFailureProbe } from "../canary/canary-alarm.js";
import { driveRollout } from "../rollout/drive-rollout.js";
import { httpReplicaProbe } from "../rollout/http-replica-probe.js";
import { openRolloutStoreFromEnv } from "../rollout/open-rollout.js";
import { RolloutMetrics } from "../rollout/rollout-metrics.js";
import type { RolloutStore } from "../rollout/rollout-store.js";
import { openPlacementStoreFromEnv, operatorName, recordOperatorAction } from "./cli-env.js";
import { EXIT_REFUSED } from "./operator-prompt.js";
import { type DriverFlags, leaseMs, openDriver, refuse, usage } from "./rollout-flags.js";
import { eventLine, printRollout } from "./rollout-output.js";

export async function withRollouts<T>(env: NodeJS.ProcessEnv, use: (store: RolloutStore) => Promise<T>): Promise<T> {
  const store = await openRolloutStoreFromEnv(env);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * Keeps serving the final metrics for ROLLOUT_METRICS_LINGER_MS (30 s) after the rollout stopped, so that
 * Prometheus scrapes how it ended: closed at once, a rollback lived on /metrics for milliseconds and the
 * RolloutRolledBack alert could not fire. Ctrl-C or SIGTERM ends the wait.
 */
async function lingerForScrape(env: NodeJS.ProcessEnv, server: Server, status: string): Promise<void> {
  const ms = Number(env.ROLLOUT_METRICS_LINGER_MS ?? 30_000);
  if (!(ms > 0)) return;
  const { port } = server.address() as AddressInfo;
  process.stderr.write(
    `rollout ${status}: serving its final metrics on :${port} for ${Math.round(ms / 1000)}s so that Prometheus scrapes the outcome (Ctrl-C ends this)\n`,
  );
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}

/** Opens what a controller needs (stores, driver, metrics), drives the rollout and prints where it stopped. */
export async function drive(
  env: NodeJS.ProcessEnv,
  command: Command,
  rolloutId: string,
  options: { json?: boolean; metricsPort?: number; driverFlags?: DriverFlags; canaryMetrics?: string },
): Promise<void> {
  const metrics = new RolloutMetrics();
  const server = options.metricsPort !== undefined ? await metrics.serve(options.metricsPort) : undefined;
  const store = await openRolloutStoreFromEnv(env);
  const placement = openPlacementStoreFromEnv(env);
  const stored = await store.get(rolloutId);
  if (!stored) usage(command, `unknown rollout ${rolloutId}`);
  const config = stored.driverConfig ?? { driver: stored.driver };
  // On resume, a kubernetes rollout may be given a new kubeconfig (or dry-run) by flags.
  const flags = options.driverFlags ?? {};
  const merged = {
    ...config,
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
  };
  const { driver, close } = openDriver(env, merged, command);
  const lease = leaseMs(env);
  const owner = `${hostname()}:${process.pid}`;
  const actor = operatorName(env);
  let ended: string | undefined;
  try {
    const outcome = await driveRollout(
      {
        store,
        driver,
        probe: httpReplicaProbe(),
        replicas: async (cellId) => (await placement.getCell(cellId))?.endpoints ?? [],
        owner,
        leaseMs: lease,
        audit: (action, target, details) => recordOperatorAction(env, { actor, action, target, details }),
        onEvent: (event, r) => {
          metrics.onEvent(event, r);
          process.stderr.write(`${eventLine(event, r)}\n`);
        },
        onReading: (step, reading) => metrics.onReading(step, reading),
        ...(options.canaryMetrics ? { canaryFailures: canaryFailureProbe(options.canaryMetrics) } : {}),
      },
      rolloutId,
      (refusal) =>
        process.stderr.write(`${refusal}; waiting for its lease (${Math.round(lease / 1000)}s) to expire ...\n`),
    );
    if (outcome.kind === "refused") refuse(command, outcome.refusal);
    const r = outcome.rollout;
    ended = r.status;
    printRollout(r, Boolean(options.json));
    if (r.status === "paused" || r.status === "waiting-gate") {
      if (!options.json) {
        process.stdout.write(
          `${r.status === "paused" ? "paused" : "waiting at a manual gate"}: continue with \`cellctl rollout resume ${r.rolloutId}\`\n`,
        );
      }
      return;
    }
    if (r.status !== "completed") process.exitCode = EXIT_REFUSED;
  } finally {
    close();
    await placement.close();
    await store.close();
    if (server && ended) await lingerForScrape(env, server, ended);
    server?.close();
  }
}

export async function resolveId(env: NodeJS.ProcessEnv, id: string | undefined, command: Command): Promise<string> {
  if (id) return id;
  const active = await withRollouts(env, (s) => s.active());
  if (!active) usage(command, "no active rollout: give a rollout id (cellctl rollout status lists them)");
  return active.rolloutId;
}
