import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command } from "commander";
import { canaryFailureProbe } from "../canary/canary-alarm.js";
import { httpReplicaProbe } from "../rollout/http-replica-probe.js";
import { createKubernetesDriver } from "../rollout/kubernetes-driver.js";
import { LocalDriver } from "../rollout/local-driver.js";
import { openLocalPlatformState, openRolloutStoreFromEnv } from "../rollout/open-rollout.js";
import type { RolloutDriver } from "../rollout/rollout-driver.js";
import { RolloutMetrics } from "../rollout/rollout-metrics.js";
import { type CellAzs, type PlanInput, parsePlan, planSteps, type RolloutPlan } from "../rollout/rollout-plan.js";
import {
  newRollout,
  type Rollout,
  type RolloutEvent,
  requestAbort,
  requestPause,
  resumeRollout,
} from "../rollout/rollout-state.js";
import { type RolloutStore, updateRollout } from "../rollout/rollout-store.js";
import { runRollout } from "../rollout/run-rollout.js";
import { openPlacementStoreFromEnv, operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";

interface PlanFlags {
  plan?: string;
  version?: string;
  canary?: string;
  waves?: string;
  azOrder?: string;
  bakeSeconds?: number;
  bakeRequests?: number;
  manualGates?: boolean;
}

interface DriverFlags {
  driver?: string;
  manifests?: string;
  namespace?: string;
  kubeconfig?: string;
  dryRun?: boolean;
}

type DriverConfig = Record<string, string | boolean>;

function usage(command: Command, message: string): never {
  return command.error(`cellctl: ${message}`, { exitCode: EXIT_USAGE });
}

function refuse(command: Command, message: string): never {
  return command.error(`cellctl: ${message}`, { exitCode: EXIT_REFUSED });
}

async function withRollouts<T>(env: NodeJS.ProcessEnv, use: (store: RolloutStore) => Promise<T>): Promise<T> {
  const store = await openRolloutStoreFromEnv(env);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Every cell that can take a version (not retired) and the AZs it has endpoints in. */
async function registryCells(env: NodeJS.ProcessEnv): Promise<CellAzs> {
  const cells = await withPlacementStore(env, (s) => s.listCells());
  return new Map(cells.filter((c) => c.state !== "retired").map((c) => [c.cellId, c.endpoints.map((e) => e.az)]));
}

/** The plan: a JSON file (--plan) with flags on top of it, checked against the registry. */
async function resolvePlan(env: NodeJS.ProcessEnv, flags: PlanFlags, command: Command) {
  let input: PlanInput = {};
  if (flags.plan) {
    try {
      input = JSON.parse(readFileSync(flags.plan, "utf8")) as PlanInput;
    } catch (error) {
      usage(command, `cannot read the plan ${flags.plan}: ${(error as Error).message}`);
    }
  }
  const cells = await registryCells(env);
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
  if (flags.bakeSeconds !== undefined || flags.bakeRequests !== undefined) {
    input.bake = {
      ...(input.bake ?? {}),
      ...(flags.bakeSeconds !== undefined ? { minSeconds: flags.bakeSeconds } : {}),
      ...(flags.bakeRequests !== undefined ? { minRequests: flags.bakeRequests } : {}),
    };
  }
  if (flags.manualGates) input.manualGates = true;
  if (input.version === undefined) usage(command, "give --version or a --plan file with a version");
  const parsed = parsePlan(input, cells);
  if (!parsed.ok) usage(command, `the plan is refused:\n  ${parsed.errors.join("\n  ")}`);
  return { plan: parsed.plan, steps: planSteps(parsed.plan, cells) };
}

function driverConfigOf(flags: DriverFlags, command: Command): DriverConfig {
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
function openDriver(env: NodeJS.ProcessEnv, config: DriverConfig, command: Command) {
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

function planFlags(command: Command): Command {
  return command
    .option("--plan <file>", "the plan as JSON (see docs/rollouts.md); flags below override it")
    .option("--version <version>", "the version to roll out")
    .option("--canary <cellId>", "the first wave: one cell")
    .option("--waves <groups>", 'the following waves: cells separated by ",", waves by ";" (default: one cell each)')
    .option("--az-order <azs>", "AZ order inside every cell, comma-separated (default: sorted)")
    .option("--bake-seconds <s>", "minimum bake time per step", Number)
    .option("--bake-requests <n>", "minimum API requests the target serves while baking", Number)
    .option("--manual-gates", "stop before every wave after the canary until `cellctl rollout resume`")
    .option("--driver <driver>", "local (default) or kubernetes")
    .option("--manifests <dir>", "kubernetes: the synthesized manifests (npm run synth -- --version <v>)")
    .option("--namespace <ns>", "kubernetes: namespace (default: the manifests')")
    .option("--kubeconfig <path>", "kubernetes: kubeconfig (default: KUBECONFIG or ~/.kube/config)");
}

const ms = (n: number) => (n % 1000 === 0 ? `${n / 1000}s` : `${n / 1000}s`);

function planSummary(plan: RolloutPlan, driver: string, steps: number): string {
  const a = plan.alarms;
  return [
    `Rollout of ${plan.version} with the ${driver} driver: ${plan.waves.length} waves, ${steps} steps, one AZ at a time.`,
    `  waves:  ${plan.waves.map((w, i) => `${i + 1}${i === 0 ? " (canary)" : ""}: ${w.join(",")}`).join("  ")}`,
    `  bake:   at least ${ms(plan.bake.minMs)} and ${plan.bake.minRequests} API requests per step${plan.manualGates ? "; manual gate before each wave after the canary" : ""}`,
    `  alarms: error rate > baseline + ${a.errorRatePointsAboveBaseline} points for ${ms(a.errorRateForMs)}; ` +
      `p99 > baseline + ${Math.round(a.p99RatioAboveBaseline * 100)}% for ${ms(a.p99ForMs)}; ` +
      `not ready for ${ms(a.readinessLostForMs)} (window ${ms(a.windowMs)}, ≥ ${a.minWindowRequests} requests)`,
  ].join("\n");
}

function stepTable(r: Pick<Rollout, "steps">): string {
  const lines = ["STEP  WAVE  CELL                 AZ           PHASE          FROM       NOTE"];
  for (const s of r.steps) {
    lines.push(
      `${String(s.index + 1).padStart(4)}  ${String(s.wave + 1).padStart(4)}  ${s.cellId.padEnd(20)} ${s.az.padEnd(12)} ` +
        `${s.phase.padEnd(14)} ${(s.previousVersion ?? "-").padEnd(10)} ${s.reason ?? ""}`.trimEnd(),
    );
  }
  return lines.join("\n");
}

function eventLine(e: RolloutEvent, r: Rollout): string {
  const where = e.cellId ? ` step ${(e.step ?? 0) + 1}/${r.steps.length} ${e.cellId}/${e.az}` : "";
  return `[${e.at.slice(11, 19)}] ${e.type}${where}${e.detail ? `: ${e.detail}` : ""}`;
}

function printRollout(r: Rollout, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const lines = [
    `rollout ${r.rolloutId}: ${r.status}${r.intent ? ` (${r.intent} requested)` : ""}, version ${r.plan.version}, driver ${r.driver}, started ${r.createdAt} by ${r.startedBy}`,
  ];
  if (r.reason) lines.push(`reason: ${r.reason}`);
  if (r.controller) lines.push(`controller: ${r.controller.owner} (heartbeat ${r.controller.heartbeatAt})`);
  lines.push(stepTable(r), "recent events:", ...r.events.slice(-8).map((e) => `  ${eventLine(e, r)}`));
  process.stdout.write(`${lines.join("\n")}\n`);
}

function leaseMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env.ROLLOUT_LEASE_MS ?? 15_000);
  return Number.isFinite(value) && value >= 200 ? value : 15_000;
}

/**
 * Drives a rollout in this process until it is terminal, paused or at a gate.
 * A controller that died (crash) is replaced once its lease has expired.
 */
async function drive(
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
  try {
    const deadline = Date.now() + lease + 2_000;
    for (;;) {
      const outcome = await runRollout(
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
      );
      if (outcome.kind === "refused") {
        if (/another controller/.test(outcome.refusal) && Date.now() < deadline) {
          process.stderr.write(
            `${outcome.refusal}; waiting for its lease (${Math.round(lease / 1000)}s) to expire ...\n`,
          );
          await new Promise((r) => setTimeout(r, Math.min(1000, lease / 2)));
          continue;
        }
        refuse(command, outcome.refusal);
      }
      const r = outcome.rollout;
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
      return;
    }
  } finally {
    close();
    await placement.close();
    await store.close();
    server?.close();
  }
}

function planCommand(env: NodeJS.ProcessEnv): Command {
  return planFlags(
    new Command("plan").description(
      "Show the steps of a rollout plan and what each one would change (changes nothing)",
    ),
  )
    .option("--json", "print the plan and steps as JSON")
    .addHelpText(
      "after",
      `
Exit status: 0 planned, 2 usage or a plan refused (every reason is listed).

Examples:
  $ cellctl rollout plan --version v2
  $ cellctl rollout plan --plan rollout.json --json
  $ cellctl rollout plan --version v2 --canary cell-2 --waves "cell-1;cell-3,cell-4" --az-order az-2,az-1,az-3
  $ cellctl rollout plan --version v2 --driver kubernetes --manifests infra/cdk8s/dist/manifests`,
    )
    .action(async (flags: PlanFlags & DriverFlags & { json?: boolean }, command: Command) => {
      const config = driverConfigOf(flags, command);
      const { plan, steps } = await resolvePlan(env, flags, command);
      const { driver, close } = openDriver(env, { ...config, dryRun: true }, command);
      try {
        const changes: string[] = [];
        for (const step of steps) changes.push(await driver.describeChange(step, plan.version));
        if (flags.json) {
          const out = { plan, driver: driver.name, steps: steps.map((s, i) => ({ ...s, change: changes[i] })) };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        const lines = [planSummary(plan, driver.name, steps.length), ""];
        steps.forEach((s, i) => {
          lines.push(`--- step ${i + 1}/${steps.length} (wave ${s.wave + 1}): ${s.cellId}/${s.az}`, changes[i] ?? "");
        });
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        close();
      }
    });
}

function startCommand(env: NodeJS.ProcessEnv): Command {
  return planFlags(
    new Command("start").description("Start a rollout and drive it in this process (progress on stderr)"),
  )
    .option("--dry-run", "refused: the dry run of a rollout is `cellctl rollout plan` (it prints every change)")
    .option("--metrics-port <port>", "serve the controller's cellwallet_rollout_* metrics on this port", Number)
    .option(
      "--canary-metrics <url>",
      "a running cellctl canary's metrics: failing journeys of the step's cell roll it back",
    )
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use, e.g. CI)")
    .option("--json", "print the final state as JSON")
    .addHelpText(
      "after",
      `
Refused when another rollout is active (running, paused or at a gate): a rollout never starts while
another is baking or rolling back. The rollout's state is persisted: if this process dies, run
\`cellctl rollout resume\` (it takes over once this process's lease has expired, ROLLOUT_LEASE_MS).

Exit status: 0 completed, or stopped at a manual gate / paused (resume continues); 1 rolled back by an
alarm, aborted, or refused; 2 usage or a plan refused.

Examples:
  $ cellctl rollout start --version v2 --yes
  $ cellctl rollout start --plan rollout.json --manual-gates --metrics-port 9464 --yes
  $ cellctl rollout start --plan rollout.json --driver kubernetes --manifests infra/cdk8s/dist/manifests --yes`,
    )
    .action(
      async (
        flags: PlanFlags &
          DriverFlags & { yes?: boolean; json?: boolean; metricsPort?: number; canaryMetrics?: string },
        command: Command,
      ) => {
        // A dry-run deploy changes nothing, so no step could ever get ready on the new version and bake.
        if (flags.dryRun)
          usage(command, "start does not dry-run: `cellctl rollout plan` prints every change it would make");
        const config = driverConfigOf(flags, command);
        const { plan, steps } = await resolvePlan(env, flags, command);
        if (!flags.json) process.stdout.write(`${planSummary(plan, String(config.driver), steps.length)}\n`);
        await confirmOrExit(command, flags.yes, `Roll out ${plan.version} to ${steps.length} cell replicas?`);
        const actor = operatorName(env);
        const rollout = newRollout({
          rolloutId: `ro-${new Date()
            .toISOString()
            .replace(/[-:.TZ]/g, "")
            .slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`,
          driver: String(config.driver),
          driverConfig: config,
          plan,
          steps,
          startedBy: actor,
          nowMs: Date.now(),
        });
        try {
          await recordOperatorAction(env, {
            actor,
            action: "rollout.start",
            target: rollout.rolloutId,
            details: { version: plan.version, driver: config.driver, waves: plan.waves, azOrder: plan.azOrder },
          });
        } catch (error) {
          refuse(
            command,
            `nothing started: could not record rollout.start in the operator audit trail: ${(error as Error).message}`,
          );
        }
        const created = await withRollouts(env, (s) => s.create(rollout));
        if (!created.ok) {
          const reason = `rollout ${created.activeRolloutId} is still active: finish, resume or abort it first`;
          await recordOperatorAction(env, {
            actor,
            action: "rollout.start.failed",
            target: rollout.rolloutId,
            details: { version: plan.version, error: reason },
          }).catch(() => undefined);
          refuse(command, reason);
        }
        process.stderr.write(`started rollout ${rollout.rolloutId}\n`);
        await drive(env, command, rollout.rolloutId, {
          json: Boolean(flags.json),
          metricsPort: flags.metricsPort,
          ...(flags.canaryMetrics ? { canaryMetrics: flags.canaryMetrics } : {}),
        });
      },
    );
}

async function resolveId(env: NodeJS.ProcessEnv, id: string | undefined, command: Command): Promise<string> {
  if (id) return id;
  const active = await withRollouts(env, (s) => s.active());
  if (!active) usage(command, "no active rollout: give a rollout id (cellctl rollout status lists them)");
  return active.rolloutId;
}

function statusCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("status")
    .description("Show a rollout (default: the active one, else the latest): steps, phases, events")
    .argument("[rolloutId]")
    .option("--json", "print the whole rollout (plan, steps, events) as JSON")
    .option("--all", "list recent rollouts instead")
    .addHelpText(
      "after",
      `
Exit status: 0 shown, 2 unknown rollout or none yet.

Examples:
  $ cellctl rollout status
  $ cellctl rollout status ro-20261202010203-abcd --json
  $ cellctl rollout status --all`,
    )
    .action(async (id: string | undefined, options: { json?: boolean; all?: boolean }, command: Command) => {
      await withRollouts(env, async (store) => {
        if (options.all) {
          const list = await store.list(20);
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ rollouts: list }, null, 2)}\n`);
            return;
          }
          const lines = ["ROLLOUT                     VERSION     STATUS        DONE  STARTED"];
          for (const r of list) {
            const done = r.steps.filter((s) => s.phase === "done").length;
            lines.push(
              `${r.rolloutId.padEnd(27)} ${r.plan.version.padEnd(11)} ${r.status.padEnd(13)} ${`${done}/${r.steps.length}`.padStart(5)}  ${r.createdAt}`,
            );
          }
          if (list.length === 0) lines.push("(no rollouts)");
          process.stdout.write(`${lines.join("\n")}\n`);
          return;
        }
        const r = id ? await store.get(id) : ((await store.active()) ?? (await store.list(1))[0]);
        if (!r) usage(command, id ? `unknown rollout ${id}` : "no rollout yet");
        printRollout(r, Boolean(options.json));
      });
    });
}

function intentCommand(env: NodeJS.ProcessEnv, verb: "pause" | "abort", description: string, help: string): Command {
  const command = new Command(verb)
    .description(description)
    .argument("[rolloutId]")
    .option("--json", "print the rollout as JSON");
  if (verb === "abort") command.option("-y, --yes", "do not ask for confirmation (required in non-interactive use)");
  return command
    .addHelpText("after", help)
    .action(async (id: string | undefined, options: { json?: boolean; yes?: boolean }, cmd: Command) => {
      const rolloutId = await resolveId(env, id, cmd);
      if (verb === "abort")
        await confirmOrExit(cmd, options.yes, `Abort rollout ${rolloutId} (the step in flight is rolled back)?`);
      const actor = operatorName(env);
      try {
        await recordOperatorAction(env, { actor, action: `rollout.${verb}`, target: rolloutId, details: {} });
      } catch (error) {
        refuse(
          cmd,
          `nothing changed: could not record rollout.${verb} in the operator audit trail: ${(error as Error).message}`,
        );
      }
      const result = await withRollouts(env, (s) =>
        updateRollout(s, rolloutId, (r) => {
          if (verb === "pause") return requestPause(r, actor, Date.now());
          // Nobody drives a paused or gated rollout: the abort ends it here (no step is in flight then).
          const t = requestAbort(r, actor, Date.now());
          return t;
        }),
      );
      if (!result.ok) {
        if (/unknown rollout/.test(result.refusal)) usage(cmd, result.refusal);
        refuse(cmd, `refused: ${result.refusal}`);
      }
      let r = result.rollout;
      if (verb === "abort" && (r.status === "paused" || r.status === "waiting-gate") && !r.controller) {
        const ended = await withRollouts(env, (s) =>
          updateRollout(s, rolloutId, (x) => ({
            ok: true,
            rollout: {
              ...x,
              status: "aborted",
              intent: undefined,
              updatedAt: new Date().toISOString(),
              events: [
                ...x.events,
                { at: new Date().toISOString(), type: "rollout.aborted", detail: x.reason ?? "aborted" },
              ],
            },
          })),
        );
        if (ended.ok) r = ended.rollout;
      }
      if (options.json) {
        printRollout(r, true);
        return;
      }
      const live = r.controller && Date.now() - Date.parse(r.controller.heartbeatAt) < leaseMs(env);
      process.stdout.write(
        r.status === "aborted"
          ? `rollout ${rolloutId} aborted\n`
          : `${verb} requested for rollout ${rolloutId}: the controller ${verb === "pause" ? "pauses after the step in flight" : "rolls back the step in flight and stops"}` +
              `${live ? "" : "; no controller is running: `cellctl rollout resume` applies it"}\n`,
      );
    });
}

function resumeCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("resume")
    .description("Continue a rollout: after a pause, past a manual gate, or after its controller died")
    .argument("[rolloutId]")
    .option("--metrics-port <port>", "serve the controller's cellwallet_rollout_* metrics on this port", Number)
    .option(
      "--canary-metrics <url>",
      "a running cellctl canary's metrics: failing journeys of the step's cell roll it back",
    )
    .option("--kubeconfig <path>", "kubernetes: kubeconfig for this controller")
    .option("--json", "print the final state as JSON")
    .addHelpText(
      "after",
      `
Drives the rollout in this process from where it stopped: a step that was deploying is deployed
again, a step that was baking bakes again from the start, a step that was rolling back finishes
its rollback. If the previous controller crashed, resume waits for its lease (ROLLOUT_LEASE_MS,
default 15 s) to expire; it is refused while another live controller drives the rollout.

Exit status: as for start (0 completed or stopped at the next gate, 1 rolled back/aborted/refused, 2 usage).

Examples:
  $ cellctl rollout resume
  $ cellctl rollout resume ro-20261202010203-abcd --metrics-port 9464`,
    )
    .action(
      async (
        id: string | undefined,
        options: { json?: boolean; metricsPort?: number; kubeconfig?: string; canaryMetrics?: string },
        command: Command,
      ) => {
        const rolloutId = await resolveId(env, id, command);
        const actor = operatorName(env);
        try {
          await recordOperatorAction(env, { actor, action: "rollout.resume", target: rolloutId, details: {} });
        } catch (error) {
          refuse(
            command,
            `nothing changed: could not record rollout.resume in the operator audit trail: ${(error as Error).message}`,
          );
        }
        const resumed = await withRollouts(env, (s) =>
          updateRollout(s, rolloutId, (r) =>
            // A running rollout whose controller died is just driven again, obeying an abort it was given.
            r.status === "running" && r.intent !== "pause"
              ? { ok: true, rollout: r }
              : resumeRollout(r, actor, Date.now()),
          ),
        );
        if (!resumed.ok) {
          if (/unknown rollout/.test(resumed.refusal)) usage(command, resumed.refusal);
          refuse(command, `refused: ${resumed.refusal}`);
        }
        await drive(env, command, rolloutId, {
          json: Boolean(options.json),
          ...(options.metricsPort !== undefined ? { metricsPort: options.metricsPort } : {}),
          ...(options.canaryMetrics ? { canaryMetrics: options.canaryMetrics } : {}),
          driverFlags: options.kubeconfig ? { kubeconfig: options.kubeconfig } : {},
        });
      },
    );
}

/** `cellctl rollout plan | start | status | pause | resume | abort`: wave deployments with automatic rollback. */
export function rolloutCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("rollout")
    .description("Roll a version out in waves (canary cell first), one AZ of a cell at a time, with automatic rollback")
    .addCommand(planCommand(env))
    .addCommand(startCommand(env))
    .addCommand(statusCommand(env))
    .addCommand(
      intentCommand(
        env,
        "pause",
        "Pause the rollout after the step in flight (it finishes baking, alarms still watched)",
        `
Exit status: 0 requested, 1 refused (already paused or finished), 2 unknown rollout.

Examples:
  $ cellctl rollout pause
  $ cellctl rollout pause ro-20261202010203-abcd`,
      ),
    )
    .addCommand(resumeCommand(env))
    .addCommand(
      intentCommand(
        env,
        "abort",
        "Abort the rollout: the step in flight is rolled back to its previous version, later steps never run",
        `
Steps already done keep the new version: roll them back with a new rollout of the previous version
(no new build needed), e.g. \`cellctl rollout start --version v1 --yes\`.

Exit status: 0 requested (or aborted at once when no controller runs), 1 refused (already finished),
2 unknown rollout or not confirmed.

Examples:
  $ cellctl rollout abort --yes
  $ cellctl rollout abort ro-20261202010203-abcd --yes --json`,
      ),
    )
    .addHelpText(
      "after",
      `
Examples:
  $ cellctl versions add v2 --entry /opt/builds/v2/cell-service/dist/main.js
  $ cellctl rollout plan --version v2
  $ cellctl rollout start --version v2 --bake-seconds 300 --bake-requests 500 --yes
  $ cellctl rollout status --json
  $ cellctl rollout pause && cellctl rollout resume`,
    );
}
