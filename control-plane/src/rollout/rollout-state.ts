import type { PlannedStep, RolloutPlan } from "./rollout-plan.js";

/**
 * The rollout state machine, pure: every function takes a rollout and returns
 * the next one (or a refusal as a value). The controller persists each result
 * with a conditional write before it acts on it, so a crash resumes from the
 * last persisted phase.
 *
 * Step:    pending → deploying → waiting-ready → baking → done
 *                    (any of the three) → rolling-back → rolled-back
 * Rollout: running ⇄ paused, running → waiting-gate → running (resume passes the gate),
 *          → completed | aborted (operator) | rolled-back (alarm)
 */
export type StepPhase = "pending" | "deploying" | "waiting-ready" | "baking" | "done" | "rolling-back" | "rolled-back";
export type RolloutStatus = "running" | "paused" | "waiting-gate" | "completed" | "aborted" | "rolled-back";
export type RolloutIntent = "pause" | "abort";

export interface RolloutStep extends PlannedStep {
  phase: StepPhase;
  /** What the target ran before this step: where a rollback goes. */
  previousVersion?: string;
  startedAt?: string;
  bakeStartedAt?: string;
  /** API requests the target has served in the bake so far (written at every scrape, for `rollout status`). */
  bakeRequests?: number;
  finishedAt?: string;
  /** The alarm (or operator abort) that rolled this step back. */
  reason?: string;
}

export interface RolloutEvent {
  at: string;
  /** e.g. "rollout.started", "step.deploying", "step.baking", "alarm.fired", "step.rolled-back". */
  type: string;
  step?: number;
  cellId?: string;
  az?: string;
  detail?: string;
}

export interface RolloutController {
  owner: string;
  heartbeatAt: string;
}

export interface Rollout {
  rolloutId: string;
  driver: string;
  /** What the driver was opened with (e.g. the manifests dir), so `resume` reopens the same one. */
  driverConfig?: Record<string, string | boolean>;
  plan: RolloutPlan;
  status: RolloutStatus;
  steps: RolloutStep[];
  /** An operator's request the running controller obeys at its next check. */
  intent?: RolloutIntent;
  controller?: RolloutController;
  events: RolloutEvent[];
  createdAt: string;
  updatedAt: string;
  startedBy: string;
  reason?: string;
  /** Incremented by every write; writes are conditional on it. */
  revision: number;
}

export const TERMINAL: readonly RolloutStatus[] = ["completed", "aborted", "rolled-back"];
const IN_FLIGHT: readonly StepPhase[] = ["deploying", "waiting-ready", "baking", "rolling-back"];

export function isTerminal(r: Pick<Rollout, "status">): boolean {
  return TERMINAL.includes(r.status);
}

export type Transition = { ok: true; rollout: Rollout } | { ok: false; refusal: string };

const iso = (ms: number) => new Date(ms).toISOString();

export function newRollout(input: {
  rolloutId: string;
  driver: string;
  driverConfig?: Record<string, string | boolean>;
  plan: RolloutPlan;
  steps: PlannedStep[];
  startedBy: string;
  nowMs: number;
}): Rollout {
  const at = iso(input.nowMs);
  return {
    rolloutId: input.rolloutId,
    driver: input.driver,
    ...(input.driverConfig ? { driverConfig: input.driverConfig } : {}),
    plan: input.plan,
    status: "running",
    steps: input.steps.map((s) => ({ ...s, phase: "pending" as const })),
    events: [{ at, type: "rollout.started", detail: `version ${input.plan.version}, ${input.steps.length} steps` }],
    createdAt: at,
    updatedAt: at,
    startedBy: input.startedBy,
    revision: 0,
  };
}

function withEvent(r: Rollout, nowMs: number, event: Omit<RolloutEvent, "at">, changes: Partial<Rollout>): Rollout {
  return { ...r, ...changes, updatedAt: iso(nowMs), events: [...r.events, { at: iso(nowMs), ...event }] };
}

function stepEvent(step: RolloutStep, type: string, detail?: string): Omit<RolloutEvent, "at"> {
  return { type, step: step.index, cellId: step.cellId, az: step.az, ...(detail ? { detail } : {}) };
}

function replaceStep(r: Rollout, step: RolloutStep): RolloutStep[] {
  return r.steps.map((s) => (s.index === step.index ? step : s));
}

/** The step the controller works on: the one in flight, else the first pending; undefined when none is left. */
export function currentStep(r: Rollout): RolloutStep | undefined {
  return r.steps.find((s) => IN_FLIGHT.includes(s.phase)) ?? r.steps.find((s) => s.phase === "pending");
}

function move(
  r: Rollout,
  step: RolloutStep,
  from: StepPhase[],
  to: StepPhase,
  nowMs: number,
  extra: Partial<RolloutStep> = {},
  detail?: string,
): Transition {
  if (!from.includes(step.phase))
    return { ok: false, refusal: `step ${step.index + 1} is ${step.phase}, not ${from.join(" or ")}` };
  const next: RolloutStep = { ...step, ...extra, phase: to };
  return {
    ok: true,
    rollout: withEvent(r, nowMs, stepEvent(next, `step.${to}`, detail), { steps: replaceStep(r, next) }),
  };
}

/** A pending step starts: the driver is about to deploy; previousVersion is where a rollback would go. */
export function beginStep(r: Rollout, step: RolloutStep, previousVersion: string, nowMs: number): Transition {
  if (r.status !== "running") return { ok: false, refusal: `the rollout is ${r.status}` };
  return move(
    r,
    step,
    ["pending", "deploying"],
    "deploying",
    nowMs,
    { previousVersion, startedAt: iso(nowMs) },
    `from ${previousVersion}`,
  );
}

export function stepDeployed(r: Rollout, step: RolloutStep, nowMs: number): Transition {
  return move(r, step, ["deploying"], "waiting-ready", nowMs);
}

export function stepReady(r: Rollout, step: RolloutStep, nowMs: number): Transition {
  return move(r, step, ["waiting-ready"], "baking", nowMs, { bakeStartedAt: iso(nowMs), bakeRequests: 0 });
}

/** A resumed controller re-bakes from the start: its samples died with the previous process. */
export function restartBake(r: Rollout, step: RolloutStep, nowMs: number): Transition {
  return move(r, step, ["baking"], "baking", nowMs, { bakeStartedAt: iso(nowMs), bakeRequests: 0 }, "bake restarted");
}

/** The requests a baking step's target has served so far; no event (it changes at every scrape). */
export function noteBakeProgress(r: Rollout, step: RolloutStep, requests: number): Rollout {
  const current = r.steps.find((s) => s.index === step.index);
  if (current?.phase !== "baking" || current.bakeRequests === requests) return r;
  return { ...r, steps: replaceStep(r, { ...current, bakeRequests: requests }) };
}

/**
 * The bake is over: the step is done; the rollout completes, stops at a manual
 * gate before the next wave, or pauses if an operator asked.
 */
export function stepBaked(r: Rollout, step: RolloutStep, nowMs: number, detail?: string): Transition {
  const moved = move(r, step, ["baking"], "done", nowMs, { finishedAt: iso(nowMs) }, detail);
  if (!moved.ok) return moved;
  const next = moved.rollout.steps.find((s) => s.phase === "pending");
  if (!next)
    return {
      ok: true,
      rollout: withEvent(
        moved.rollout,
        nowMs,
        { type: "rollout.completed" },
        { status: "completed", intent: undefined },
      ),
    };
  if (next.wave !== step.wave && r.plan.manualGates) {
    return {
      ok: true,
      rollout: withEvent(
        moved.rollout,
        nowMs,
        { type: "rollout.waiting-gate", detail: `before wave ${next.wave + 1}` },
        { status: "waiting-gate" },
      ),
    };
  }
  return { ok: true, rollout: moved.rollout };
}

/** An alarm fired (or an operator aborted): the step goes back to its previous version. */
export function beginRollback(r: Rollout, step: RolloutStep, reason: string, nowMs: number): Transition {
  const moved = move(
    r,
    step,
    ["deploying", "waiting-ready", "baking", "rolling-back"],
    "rolling-back",
    nowMs,
    { reason },
    reason,
  );
  if (!moved.ok) return moved;
  return { ok: true, rollout: { ...moved.rollout, reason } };
}

/**
 * The step runs its previous version again. An alarm ends the rollout as
 * rolled-back; an operator abort as aborted. Later steps never run.
 */
export function rollbackDone(r: Rollout, step: RolloutStep, nowMs: number): Transition {
  const moved = move(r, step, ["rolling-back"], "rolled-back", nowMs, { finishedAt: iso(nowMs) });
  if (!moved.ok) return moved;
  const status: RolloutStatus = r.intent === "abort" ? "aborted" : "rolled-back";
  return {
    ok: true,
    rollout: withEvent(
      moved.rollout,
      nowMs,
      { type: `rollout.${status}`, ...(r.reason ? { detail: r.reason } : {}) },
      { status, intent: undefined },
    ),
  };
}

/** Operator intents, written by another cellctl process; the controller obeys them at its next check. */
export function requestPause(r: Rollout, actor: string, nowMs: number): Transition {
  if (isTerminal(r)) return { ok: false, refusal: `the rollout is already ${r.status}` };
  if (r.status === "paused" || r.intent === "pause") return { ok: false, refusal: "the rollout is already paused" };
  // Nothing runs at a gate, and the resume that passes it continues the rollout: a pause there would do nothing.
  if (r.status === "waiting-gate") return { ok: false, refusal: "the rollout is already stopped at a manual gate" };
  if (r.intent === "abort") return { ok: false, refusal: "the rollout is being aborted" };
  return {
    ok: true,
    rollout: withEvent(r, nowMs, { type: "intent.pause", detail: `by ${actor}` }, { intent: "pause" }),
  };
}

export function requestAbort(r: Rollout, actor: string, nowMs: number): Transition {
  if (isTerminal(r)) return { ok: false, refusal: `the rollout is already ${r.status}` };
  if (r.intent === "abort") return { ok: false, refusal: "the rollout is already being aborted" };
  return {
    ok: true,
    rollout: withEvent(
      r,
      nowMs,
      { type: "intent.abort", detail: `by ${actor}` },
      { intent: "abort", reason: `aborted by ${actor}` },
    ),
  };
}

/**
 * resume: a paused rollout runs again; one waiting at a gate passes it. A running one (its controller died) is
 * only driven again: an operator's pending pause or abort is kept and obeyed, so a pause asked of a dead
 * controller still stops the rollout after the step in flight.
 */
export function resumeRollout(r: Rollout, actor: string, nowMs: number): Transition {
  if (isTerminal(r)) return { ok: false, refusal: `the rollout is already ${r.status}` };
  if (r.status === "running") return { ok: true, rollout: r };
  if (r.intent === "abort") return { ok: false, refusal: "the rollout is being aborted" };
  const type = r.status === "waiting-gate" ? "gate.passed" : "rollout.resumed";
  return {
    ok: true,
    rollout: withEvent(r, nowMs, { type, detail: `by ${actor}` }, { status: "running", intent: undefined }),
  };
}

/** A pause takes effect between steps: the step in flight finishes its bake (alarms still watched). */
export function applyPause(r: Rollout, nowMs: number): Rollout {
  if (r.intent !== "pause" || r.status !== "running") return r;
  return withEvent(r, nowMs, { type: "rollout.paused" }, { status: "paused", intent: undefined });
}

/** An abort with no step in flight ends the rollout at once (there is nothing to roll back). */
export function applyAbortBetweenSteps(r: Rollout, nowMs: number): Rollout {
  if (r.intent !== "abort") return r;
  return withEvent(
    r,
    nowMs,
    { type: "rollout.aborted", ...(r.reason ? { detail: r.reason } : {}) },
    { status: "aborted", intent: undefined },
  );
}

/** How often a controller renews its lease while it waits (it also does at every write). */
export function heartbeatIntervalMs(leaseMs: number): number {
  return Math.max(200, Math.floor(leaseMs / 3));
}

export type ControllerLiveness = { kind: "live" | "stale"; owner: string; ageSeconds: number } | { kind: "none" };

/**
 * Whether a controller is driving the rollout, as operators see it: one that missed two heartbeats is
 * presumably dead (stale) even before its lease expires and `resume` may take over; none is recorded when
 * no controller runs (a paused or gated rollout, or one whose start died before claiming it).
 */
export function controllerLiveness(r: Rollout, nowMs: number, leaseMs: number): ControllerLiveness {
  if (!r.controller) return { kind: "none" };
  const ageMs = nowMs - Date.parse(r.controller.heartbeatAt);
  return {
    kind: ageMs > 2 * heartbeatIntervalMs(leaseMs) ? "stale" : "live",
    owner: r.controller.owner,
    ageSeconds: Math.max(0, Math.round(ageMs / 1000)),
  };
}

/** Takes the rollout for one controller, unless another one's heartbeat is fresher than leaseMs. */
export function claimController(r: Rollout, owner: string, nowMs: number, leaseMs: number): Transition {
  const held = r.controller;
  if (held && held.owner !== owner && nowMs - Date.parse(held.heartbeatAt) < leaseMs) {
    const age = Math.round((nowMs - Date.parse(held.heartbeatAt)) / 1000);
    return { ok: false, refusal: `another controller (${held.owner}) drives this rollout (heartbeat ${age}s ago)` };
  }
  return { ok: true, rollout: { ...r, controller: { owner, heartbeatAt: iso(nowMs) } } };
}

export function releaseController(r: Rollout, owner: string): Rollout {
  if (r.controller?.owner !== owner) return r;
  const { controller: _released, ...rest } = r;
  return rest;
}
