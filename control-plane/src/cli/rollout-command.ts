import { Command } from "commander";
import { newRollout } from "../rollout/rollout-state.js";
import { operatorName, recordOperatorAction } from "./cli-env.js";
import { port } from "./cli-options.js";
import { confirmOrExit } from "./operator-prompt.js";
import { printJson } from "./output.js";
import { drive, withRollouts } from "./rollout-drive.js";
import {
  checkControllerFlags,
  checkVersion,
  type DriverFlags,
  driverConfigOf,
  leaseMs,
  openDriver,
  type PlanFlags,
  planFlags,
  refuse,
  resolvePlan,
  usage,
} from "./rollout-flags.js";
import { intentCommand, resumeCommand } from "./rollout-intent-commands.js";
import { planSummary, printRollout } from "./rollout-output.js";

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
        checkVersion(command, driver, plan.version);
        const changes: string[] = [];
        for (const step of steps) changes.push(await driver.describeChange(step, plan.version));
        if (flags.json) {
          const out = { plan, driver: driver.name, steps: steps.map((s, i) => ({ ...s, change: changes[i] })) };
          printJson(out);
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
    .option("--metrics-port <port>", "serve the controller's cellwallet_rollout_* metrics on this port", port)
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
        checkControllerFlags(command, flags);
        const config = driverConfigOf(flags, command);
        const { plan, steps } = await resolvePlan(env, flags, command);
        const opened = openDriver(env, config, command);
        try {
          checkVersion(command, opened.driver, plan.version);
        } finally {
          opened.close();
        }
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
            printJson({ rollouts: list });
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
        printRollout(r, Boolean(options.json), leaseMs(env));
      });
    });
}

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
Only a running controller obeys: when none is alive (its heartbeat is stale), this says so, and the
pause takes effect under the next \`cellctl rollout resume\` (which keeps it: that controller finishes
the step in flight, then pauses).

Exit status: 0 requested, 1 refused (already paused, stopped at a gate, or finished), 2 unknown rollout.

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
Only a running controller rolls back: when none is alive (its heartbeat is stale), this says so, and
nothing is rolled back until \`cellctl rollout resume\` takes over and applies the abort. A paused or
gated rollout has nothing in flight and is aborted at once.

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
