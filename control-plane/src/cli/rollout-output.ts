import type { RolloutPlan } from "../rollout/rollout-plan.js";
import {
  controllerLiveness,
  isTerminal,
  type Rollout,
  type RolloutEvent,
  type RolloutStep,
} from "../rollout/rollout-state.js";
import { printJson } from "./output.js";

/** How the rollout commands show a plan, a rollout's steps and its events. */

const ms = (n: number) => (n % 1000 === 0 ? `${n / 1000}s` : `${n / 1000}s`);

export function planSummary(plan: RolloutPlan, driver: string, steps: number): string {
  const a = plan.alarms;
  return [
    `Rollout of ${plan.version} with the ${driver} driver: ${plan.waves.length} waves, ${steps} steps, one AZ at a time.`,
    `  waves:  ${plan.waves.map((w, i) => `${i + 1}${i === 0 ? " (canary)" : ""}: ${w.join(",")}`).join("  ")}`,
    `  bake:   at least ${ms(plan.bake.minMs)} and ${plan.bake.minRequests} API requests per step, rolled back if not passed in ${ms(plan.bake.maxMs)}${plan.manualGates ? "; manual gate before each wave after the canary" : ""}`,
    `  alarms: error rate > baseline + ${a.errorRatePointsAboveBaseline} points for ${ms(a.errorRateForMs)}; ` +
      `p99 > baseline + ${Math.round(a.p99RatioAboveBaseline * 100)}% for ${ms(a.p99ForMs)}; ` +
      `not ready for ${ms(a.readinessLostForMs)}; a restart during the bake (window ${ms(a.windowMs)}, ≥ ${a.minWindowRequests} requests)`,
  ].join("\n");
}

/** A baking step's progress: requests served of the minimum, and since when (a bake that gets no traffic shows). */
function bakeNote(s: RolloutStep, plan: RolloutPlan): string {
  if (s.phase !== "baking" || !s.bakeStartedAt) return "";
  return `${s.bakeRequests ?? 0}/${plan.bake.minRequests} requests since ${s.bakeStartedAt.slice(11, 19)}`;
}

export function stepTable(r: Pick<Rollout, "steps" | "plan">): string {
  const lines = ["STEP  WAVE  CELL                 AZ           PHASE          FROM       NOTE"];
  for (const s of r.steps) {
    lines.push(
      `${String(s.index + 1).padStart(4)}  ${String(s.wave + 1).padStart(4)}  ${s.cellId.padEnd(20)} ${s.az.padEnd(12)} ` +
        `${s.phase.padEnd(14)} ${(s.previousVersion ?? "-").padEnd(10)} ${s.reason ?? bakeNote(s, r.plan)}`.trimEnd(),
    );
  }
  return lines.join("\n");
}

export function eventLine(e: RolloutEvent, r: Rollout): string {
  const where = e.cellId ? ` step ${(e.step ?? 0) + 1}/${r.steps.length} ${e.cellId}/${e.az}` : "";
  return `[${e.at.slice(11, 19)}] ${e.type}${where}${e.detail ? `: ${e.detail}` : ""}`;
}

/**
 * Who drives the rollout. With the lease known (`rollout status`), a controller that missed its heartbeats is
 * marked stale, and a running rollout with none says so: its pause or abort waits for `resume`.
 */
function controllerLine(r: Rollout, leaseMs: number | undefined): string | undefined {
  if (leaseMs === undefined || isTerminal(r)) {
    return r.controller ? `controller: ${r.controller.owner} (heartbeat ${r.controller.heartbeatAt})` : undefined;
  }
  const c = controllerLiveness(r, Date.now(), leaseMs);
  if (c.kind === "live") return `controller: ${c.owner} (heartbeat ${c.ageSeconds}s ago)`;
  const resume = `\`cellctl rollout resume ${r.rolloutId}\` takes over`;
  if (c.kind === "stale") {
    return `controller: ${c.owner} (heartbeat ${c.ageSeconds}s ago: STALE, presumably dead; nothing advances until ${resume})`;
  }
  return r.status === "running" ? `controller: none (nothing advances until ${resume})` : undefined;
}

export function printRollout(r: Rollout, json: boolean, leaseMs?: number): void {
  if (json) {
    printJson(r);
    return;
  }
  const lines = [
    `rollout ${r.rolloutId}: ${r.status}${r.intent ? ` (${r.intent} requested)` : ""}, version ${r.plan.version}, driver ${r.driver}, started ${r.createdAt} by ${r.startedBy}`,
  ];
  if (r.reason) lines.push(`reason: ${r.reason}`);
  const controller = controllerLine(r, leaseMs);
  if (controller) lines.push(controller);
  lines.push(stepTable(r), "recent events:", ...r.events.slice(-8).map((e) => `  ${eventLine(e, r)}`));
  process.stdout.write(`${lines.join("\n")}\n`);
}
