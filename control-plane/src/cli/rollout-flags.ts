import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { createKubernetesDriver } from "../rollout/kubernetes-driver.js";
import { LocalDriver } from "../rollout/local-driver.js";
import { openLocalPlatformState } from "../rollout/open-rollout.js";
import type { RolloutDriver } from "../rollout/rollout-driver.js";
import {
  type CellAzs,
  type PlanInput,
  parsePlan,
  planSteps,
  type QuietTargets,
  quietSteps,
} from "../rollout/rollout-plan.js";
import { withPlacementStore } from "./cli-env.js";
import { nonNegativeInt, nonNegativeNumber } from "./cli-options.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";

/** The rollout commands' flags: the plan (file and overrides), the driver, and what they resolve to. */

export interface PlanFlags {
  plan?: string;
  version?: string;
  canary?: string;
  waves?: string;
  azOrder?: string;
  bakeSeconds?: number;
  bakeRequests?: number;
  bakeMaxSeconds?: number;
  manualGates?: boolean;
}

export interface DriverFlags {
  driver?: string;
  manifests?: string;
  namespace?: string;
  kubeconfig?: string;
  dryRun?: boolean;
}

export type DriverConfig = Record<string, string | boolean>;

export function usage(command: Command, message: string): never {
  return command.error(`cellctl: ${message}`, { exitCode: EXIT_USAGE });
}

export function refuse(command: Command, message: string): never {
  return command.error(`cellctl: ${message}`, { exitCode: EXIT_REFUSED });
}

/**
 * The controller's observability flags, checked before anything starts or is recorded: a mistyped
 * --canary-metrics would otherwise read as "no canary reading" for the whole rollout, silently dropping that alarm.
 */
export function checkControllerFlags(command: Command, flags: { metricsPort?: number; canaryMetrics?: string }): void {
  const port = flags.metricsPort;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    usage(command, "--metrics-port must be a port number");
  }
  if (flags.canaryMetrics === undefined) return;
  let protocol = "";
  try {
    protocol = new URL(flags.canaryMetrics).protocol;
  } catch {
    // not a URL: refused below
  }
  if (protocol !== "http:" && protocol !== "https:") {
    usage(
      command,
      `--canary-metrics ${flags.canaryMetrics} is not an http(s) URL (a running cellctl canary's, e.g. http://127.0.0.1:9465)`,
    );
  }
}

/**
 * Every cell that can take a version (not retired) and the AZs it has endpoints in, and which of those
 * endpoints take no traffic (router weight 0: the AZ is evacuated for that cell).
 */
export async function registryCells(env: NodeJS.ProcessEnv): Promise<{ cells: CellAzs; quiet: QuietTargets }> {
  const listed = (await withPlacementStore(env, (s) => s.listCells())).filter((c) => c.state !== "retired");
  const cells = new Map(listed.map((c) => [c.cellId, c.endpoints.map((e) => e.az)]));
  const quiet = new Set(
    listed.flatMap((c) => c.endpoints.filter((e) => e.weight === 0).map((e) => `${c.cellId}/${e.az}`)),
  );
  return { cells, quiet };
}

/** The plan: a JSON file (--plan) with flags on top of it, checked against the registry. */
export async function resolvePlan(env: NodeJS.ProcessEnv, flags: PlanFlags, command: Command) {
  let input: PlanInput = {};
  if (flags.plan) {
    try {
      input = JSON.parse(readFileSync(flags.plan, "utf8")) as PlanInput;
    } catch (error) {
      usage(command, `cannot read the plan ${flags.plan}: ${(error as Error).message}`);
    }
  }
  const { cells, quiet } = await registryCells(env);
  const list = (s: string) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  if (flags.version) input.version = flags.version;
  if (flags.canary || flags.waves) {
    const canary = flags.canary ?? (Array.isArray(input.waves) ? (input.waves as string[][])[0]?.[0] : undefined);
    if (!canary) usage(command, "--waves needs --canary");
    const rest = flags.waves
      ? flags.waves.split(";").map(list)
      : [...cells.keys()].filter((c) => c !== canary).map((c) => [c]);
    input.waves = [[canary], ...rest.filter((w) => w.length > 0)];
  }
  if (flags.azOrder) input.azOrder = list(flags.azOrder);
  if (flags.bakeSeconds !== undefined || flags.bakeRequests !== undefined || flags.bakeMaxSeconds !== undefined) {
    input.bake = {
      ...(input.bake ?? {}),
      ...(flags.bakeSeconds !== undefined ? { minSeconds: flags.bakeSeconds } : {}),
      ...(flags.bakeRequests !== undefined ? { minRequests: flags.bakeRequests } : {}),
      ...(flags.bakeMaxSeconds !== undefined ? { maxSeconds: flags.bakeMaxSeconds } : {}),
    };
  }
  if (flags.manualGates) input.manualGates = true;
  if (input.version === undefined) usage(command, "give --version or a --plan file with a version");
  const parsed = parsePlan(input, cells, quiet);
  if (!parsed.ok) usage(command, `the plan is refused:\n  ${parsed.errors.join("\n  ")}`);
  const steps = planSteps(parsed.plan, cells);
  // Accepted only because the bake needs no requests (parsePlan refuses these otherwise): say what it means.
  for (const s of quietSteps(steps, quiet)) {
    process.stderr.write(
      `warning: ${s.cellId}/${s.az} takes no traffic (weight 0: evacuated): its step bakes on time alone, its alarms see no requests\n`,
    );
  }
  return { plan: parsed.plan, steps };
}

export function driverConfigOf(flags: DriverFlags, command: Command): DriverConfig {
  const driver = flags.driver ?? "local";
  if (driver === "local") {
    if (flags.manifests || flags.namespace || flags.kubeconfig) {
      usage(command, "--manifests, --namespace and --kubeconfig need --driver kubernetes");
    }
    return { driver };
  }
  if (driver !== "kubernetes") usage(command, `--driver must be local or kubernetes, got ${driver}`);
  if (!flags.manifests) usage(command, "--driver kubernetes needs --manifests <dir> (npm run synth -- --version <v>)");
  return {
    driver,
    manifests: flags.manifests,
    dryRun: Boolean(flags.dryRun),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
  };
}

/** Opens the driver a rollout names; `close` releases what it holds. */
export function openDriver(env: NodeJS.ProcessEnv, config: DriverConfig, command: Command) {
  if (config.driver === "kubernetes") {
    const driver = createKubernetesDriver({
      manifestsDir: String(config.manifests),
      dryRun: config.dryRun === true,
      ...(typeof config.namespace === "string" ? { namespace: config.namespace } : {}),
      ...(typeof config.kubeconfig === "string" ? { kubeconfig: config.kubeconfig } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return { driver, close: () => undefined };
  }
  const state = openLocalPlatformState(env);
  if (!state) {
    return usage(
      command,
      `no local platform in ${env.WALLET_DATA_DIR ?? ".data"} (start it with npm start), or use --driver kubernetes`,
    );
  }
  const driver: RolloutDriver = new LocalDriver({ state });
  return { driver, close: () => state.close() };
}

/** Refuses (usage, exit 2) a plan whose version the driver cannot deploy, before anything starts. */
export function checkVersion(command: Command, driver: RolloutDriver, version: string): void {
  const reason = driver.refuseVersion?.(version);
  if (reason) usage(command, reason);
}

export function planFlags(command: Command): Command {
  return command
    .option("--plan <file>", "the plan as JSON (see docs/rollouts.md); flags below override it")
    .option("--version <version>", "the version to roll out")
    .option("--canary <cellId>", "the first wave: one cell")
    .option("--waves <groups>", 'the following waves: cells separated by ",", waves by ";" (default: one cell each)')
    .option("--az-order <azs>", "AZ order inside every cell, comma-separated (default: sorted)")
    .option("--bake-seconds <s>", "minimum bake time per step", nonNegativeNumber)
    .option("--bake-requests <n>", "minimum API requests the target serves while baking", nonNegativeInt)
    .option(
      "--bake-max-seconds <s>",
      "bake deadline per step: a step not passed by then is rolled back (default: 3 × bake seconds, at least 600)",
      nonNegativeNumber,
    )
    .option("--manual-gates", "stop before every wave after the canary until `cellctl rollout resume`")
    .option("--driver <driver>", "local (default) or kubernetes")
    .option("--manifests <dir>", "kubernetes: the synthesized manifests (npm run synth -- --version <v>)")
    .option("--namespace <ns>", "kubernetes: namespace (default: the manifests')")
    .option("--kubeconfig <path>", "kubernetes: kubeconfig (default: KUBECONFIG or ~/.kube/config)");
}

export function leaseMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env.ROLLOUT_LEASE_MS ?? 15_000);
  return Number.isFinite(value) && value >= 200 ? value : 15_000;
}
