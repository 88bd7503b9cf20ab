import { Command } from "commander";
import type { Rollout } from "../rollout/rollout-state.js";
import { controllerLiveness, requestAbort, requestPause, resumeRollout } from "../rollout/rollout-state.js";
import { updateRollout } from "../rollout/rollout-store.js";
import { operatorName, recordOperatorAction } from "./cli-env.js";
import { port } from "./cli-options.js";
import { confirmOrExit } from "./operator-prompt.js";
import { drive, resolveId, withRollouts } from "./rollout-drive.js";
import { checkControllerFlags, leaseMs, refuse, usage } from "./rollout-flags.js";
import { printRollout } from "./rollout-output.js";

/** `cellctl rollout pause | abort | resume`: operators steering a rollout another process may be driving. */

export function intentCommand(
  env: NodeJS.ProcessEnv,
  verb: "pause" | "abort",
  description: string,
  help: string,
): Command {
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
      process.stdout.write(`${intentOutcome(verb, r, leaseMs(env))}\n`);
    });
}

/**
 * What the operator's request does now. An intent is only obeyed by a running controller: with none alive
 * (it crashed, its terminal closed) nothing happens until `resume` takes over, and saying otherwise would
 * leave the new version in place while the operator believes it is being rolled back.
 */
function intentOutcome(verb: "pause" | "abort", r: Rollout, lease: number): string {
  if (r.status === "aborted") return `rollout ${r.rolloutId} aborted`;
  const effect = verb === "pause" ? "pauses after the step in flight" : "rolls back the step in flight and stops";
  const controller = controllerLiveness(r, Date.now(), lease);
  if (controller.kind === "live") {
    return `${verb} requested for rollout ${r.rolloutId}: its controller (${controller.owner}, heartbeat ${controller.ageSeconds}s ago) ${effect}`;
  }
  const seen =
    controller.kind === "stale" ? ` (${controller.owner}'s last heartbeat ${controller.ageSeconds}s ago)` : "";
  return (
    `${verb} requested for rollout ${r.rolloutId}, but no controller is running${seen}: nothing happens until ` +
    `you run \`cellctl rollout resume ${r.rolloutId}\`, which takes over and ${effect.replace("pauses", "pauses it")}`
  );
}

export function resumeCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("resume")
    .description("Continue a rollout: after a pause, past a manual gate, or after its controller died")
    .argument("[rolloutId]")
    .option("--metrics-port <port>", "serve the controller's cellwallet_rollout_* metrics on this port", port)
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
default 15 s) to expire; it is refused while another live controller drives the rollout. A pause or
abort asked of the dead controller is kept and carried out: a pending pause stops the rollout after
the step in flight (resume again to continue), a pending abort rolls that step back.

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
        checkControllerFlags(command, options);
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
        // A running rollout whose controller died is just driven again, obeying a pause or abort it was given.
        const resumed = await withRollouts(env, (s) =>
          updateRollout(s, rolloutId, (r) => resumeRollout(r, actor, Date.now())),
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
