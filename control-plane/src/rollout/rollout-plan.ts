/**
 * The declarative rollout plan and the ordered steps it expands to. Pure: no
 * I/O. A plan sends one version out in waves (a canary cell first, then growing
 * groups); inside a cell one AZ at a time, in the plan's AZ order. Steps run one
 * after another, so two AZs of a cell are never changed at once.
 */

export interface AlarmThresholds {
  /** Fires when the target's 5xx rate exceeds the baseline's by more than this many percentage points ... */
  errorRatePointsAboveBaseline: number;
  /** ... continuously for this long (ms). */
  errorRateForMs: number;
  /** Fires when the target's p99 exceeds the baseline's p99 by more than this fraction (0.2 = 20%) ... */
  p99RatioAboveBaseline: number;
  /** ... continuously for this long (ms). */
  p99ForMs: number;
  /** Fires when the target's /ready fails continuously for this long (ms). */
  readinessLostForMs: number;
  /** Rates and p99 are computed over the last windowMs of samples. */
  windowMs: number;
  /** A window with fewer API requests on the target says nothing (neither breach nor clear). */
  minWindowRequests: number;
}

export interface BakeSettings {
  /** Minimum time a step bakes after it is ready (ms) ... */
  minMs: number;
  /** ... and minimum number of API requests the target must have served meanwhile. Both must hold. */
  minRequests: number;
  /**
   * The bake deadline (ms): a step that has not passed by then (too few requests, or an alarm still pending)
   * is rolled back. Without it a target that gets no traffic (an evacuated AZ, a quiet cell) bakes forever,
   * holding the one active rollout slot.
   */
  maxMs: number;
}

export interface RolloutPlan {
  version: string;
  /** Wave 0 is the canary (one cell); later waves grow. A cell appears once. */
  waves: string[][];
  /** The order of AZs inside every cell (an AZ a cell does not have is skipped). */
  azOrder: string[];
  bake: BakeSettings;
  /** When true the rollout stops before every wave after the first until an operator runs `rollout resume`. */
  manualGates: boolean;
  alarms: AlarmThresholds;
  /** How long a deployed target may take to report ready with the new version (ms). */
  readyTimeoutMs: number;
  /** How often the controller scrapes /ready and /metrics while baking (ms). */
  scrapeIntervalMs: number;
}

export interface PlannedStep {
  index: number;
  wave: number;
  cellId: string;
  az: string;
}

export const DEFAULT_ALARMS: AlarmThresholds = {
  errorRatePointsAboveBaseline: 0.1,
  errorRateForMs: 3 * 60_000,
  p99RatioAboveBaseline: 0.2,
  p99ForMs: 5 * 60_000,
  readinessLostForMs: 30_000,
  windowMs: 60_000,
  minWindowRequests: 20,
};

/** The bake deadline when the plan names none: three times the minimum bake time, and never under 10 minutes. */
export function defaultMaxBakeMs(minMs: number): number {
  return Math.max(3 * minMs, 10 * 60_000);
}

export const DEFAULT_BAKE: BakeSettings = { minMs: 10 * 60_000, minRequests: 1000, maxMs: 30 * 60_000 };

export const DEFAULT_READY_TIMEOUT_MS = 120_000;
export const DEFAULT_SCRAPE_INTERVAL_MS = 5_000;

/** What a plan file may contain: durations in seconds for humans, everything but version and waves optional. */
export interface PlanInput {
  version?: unknown;
  waves?: unknown;
  azOrder?: unknown;
  manualGates?: unknown;
  bake?: { minSeconds?: unknown; minRequests?: unknown; maxSeconds?: unknown };
  alarms?: {
    errorRatePointsAboveBaseline?: unknown;
    errorRateForSeconds?: unknown;
    p99RatioAboveBaseline?: unknown;
    p99ForSeconds?: unknown;
    readinessLostForSeconds?: unknown;
    windowSeconds?: unknown;
    minWindowRequests?: unknown;
  };
  readyTimeoutSeconds?: unknown;
  scrapeIntervalSeconds?: unknown;
}

/** The registry's view the plan is checked against: every cell and the AZs it has. */
export type CellAzs = ReadonlyMap<string, readonly string[]>;

/** Targets that take no traffic (their AZ's weight is 0: evacuated), as `cell/az`. */
export type QuietTargets = ReadonlySet<string>;

/** The steps whose target takes no traffic: they can serve no request while baking. */
export function quietSteps(steps: readonly PlannedStep[], quiet: QuietTargets): PlannedStep[] {
  return steps.filter((s) => quiet.has(`${s.cellId}/${s.az}`));
}

export type PlanResult = { ok: true; plan: RolloutPlan } | { ok: false; errors: string[] };

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PLAN_KEYS = new Set([
  "version",
  "waves",
  "azOrder",
  "manualGates",
  "bake",
  "alarms",
  "readyTimeoutSeconds",
  "scrapeIntervalSeconds",
]);

/**
 * Growing waves when the operator names none: the canary cell alone, then
 * groups doubling in size (1, 2, 4, ...) over the remaining cells in order.
 */
export function growingWaves(cells: readonly string[], canary = cells[0]): string[][] {
  if (canary === undefined) return [];
  const rest = cells.filter((c) => c !== canary);
  const waves: string[][] = [[canary]];
  let size = 1;
  for (let i = 0; i < rest.length; ) {
    waves.push(rest.slice(i, i + size));
    i += size;
    size *= 2;
  }
  return waves;
}

function seconds(value: unknown, name: string, fallbackMs: number, errors: string[], min = 0): number {
  if (value === undefined) return fallbackMs;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    errors.push(`${name} must be a number ≥ ${min}`);
    return fallbackMs;
  }
  return Math.round(value * 1000);
}

function number(value: unknown, name: string, fallback: number, errors: string[], integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    errors.push(`${name} must be a ${integer ? "non-negative integer" : "non-negative number"}`);
    return fallback;
  }
  return value;
}

/**
 * Checks a plan against the registry and fills in the defaults. Every problem
 * is reported at once; a plan with any problem is refused as a whole. A step
 * into an AZ that takes no traffic is refused when the bake needs requests: it
 * could only end at the bake deadline.
 */
export function parsePlan(input: PlanInput, cells: CellAzs, quiet: QuietTargets = new Set()): PlanResult {
  const errors: string[] = [];
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, errors: ["the plan must be a JSON object"] };
  }
  for (const key of Object.keys(input)) if (!PLAN_KEYS.has(key)) errors.push(`unknown plan member ${key}`);
  const version = typeof input.version === "string" ? input.version : "";
  if (!VERSION.test(version)) errors.push("version must be 1..64 of A-Z a-z 0-9 . _ - (starting alphanumeric)");

  let waves: string[][] = [];
  if (input.waves === undefined) {
    waves = growingWaves([...cells.keys()]);
  } else if (
    !Array.isArray(input.waves) ||
    input.waves.length === 0 ||
    !input.waves.every((w) => Array.isArray(w) && w.length > 0 && w.every((c) => typeof c === "string"))
  ) {
    errors.push("waves must be a non-empty list of non-empty lists of cell ids");
  } else {
    waves = input.waves as string[][];
  }
  const seen = new Set<string>();
  for (const cell of waves.flat()) {
    if (seen.has(cell)) errors.push(`cell ${cell} appears in more than one wave`);
    seen.add(cell);
    if (!cells.has(cell)) errors.push(`unknown cell ${cell}`);
  }
  if (waves[0] && waves[0].length !== 1) errors.push("the first wave is the canary: exactly one cell");
  for (let w = 1; w < waves.length; w++) {
    if ((waves[w]?.length ?? 0) < (waves[w - 1]?.length ?? 0)) errors.push(`wave ${w + 1} is smaller than wave ${w}`);
  }

  const allAzs = [...new Set([...cells.values()].flat())].sort();
  let azOrder = allAzs;
  if (input.azOrder !== undefined) {
    if (!Array.isArray(input.azOrder) || !input.azOrder.every((a) => typeof a === "string")) {
      errors.push("azOrder must be a list of AZ names");
    } else {
      azOrder = input.azOrder as string[];
      if (new Set(azOrder).size !== azOrder.length) errors.push("azOrder names an AZ twice");
      for (const cell of waves.flat()) {
        const missing = (cells.get(cell) ?? []).filter((az) => !azOrder.includes(az));
        if (missing.length > 0) errors.push(`azOrder misses ${missing.join(", ")} of ${cell}`);
      }
    }
  }
  if (input.manualGates !== undefined && typeof input.manualGates !== "boolean") {
    errors.push("manualGates must be true or false");
  }
  const bake = input.bake ?? {};
  const alarms = input.alarms ?? {};
  if (typeof bake !== "object" || typeof alarms !== "object") errors.push("bake and alarms must be objects");
  const minMs = seconds(bake.minSeconds, "bake.minSeconds", DEFAULT_BAKE.minMs, errors);
  const maxMs = seconds(bake.maxSeconds, "bake.maxSeconds", defaultMaxBakeMs(minMs), errors);
  if (maxMs < minMs) errors.push("bake.maxSeconds must be at least bake.minSeconds");
  const plan: RolloutPlan = {
    version,
    waves,
    azOrder,
    manualGates: input.manualGates === true,
    bake: {
      minMs,
      minRequests: number(bake.minRequests, "bake.minRequests", DEFAULT_BAKE.minRequests, errors, true),
      maxMs,
    },
    alarms: parseAlarms(alarms, errors),
    readyTimeoutMs: seconds(input.readyTimeoutSeconds, "readyTimeoutSeconds", DEFAULT_READY_TIMEOUT_MS, errors, 1),
    scrapeIntervalMs: seconds(
      input.scrapeIntervalSeconds,
      "scrapeIntervalSeconds",
      DEFAULT_SCRAPE_INTERVAL_MS,
      errors,
      0.05,
    ),
  };
  const steps = plan.version && waves.length > 0 ? planSteps(plan, cells) : [];
  if (plan.version && waves.length > 0 && steps.length === 0) errors.push("the plan has no step");
  if (plan.bake.minRequests > 0) {
    for (const s of quietSteps(steps, quiet)) {
      errors.push(
        `${s.cellId}/${s.az} takes no traffic (weight 0: evacuated), so its bake could never serve bake.minRequests: ` +
          `restore it (cellctl az restore ${s.az} --cell ${s.cellId}) or leave ${s.cellId} out of the plan`,
      );
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, plan };
}

/** The plan's alarm thresholds, each defaulted; a bad value adds its error. */
function parseAlarms(alarms: NonNullable<PlanInput["alarms"]>, errors: string[]): RolloutPlan["alarms"] {
  return {
    errorRatePointsAboveBaseline: number(
      alarms.errorRatePointsAboveBaseline,
      "alarms.errorRatePointsAboveBaseline",
      DEFAULT_ALARMS.errorRatePointsAboveBaseline,
      errors,
    ),
    errorRateForMs: seconds(
      alarms.errorRateForSeconds,
      "alarms.errorRateForSeconds",
      DEFAULT_ALARMS.errorRateForMs,
      errors,
    ),
    p99RatioAboveBaseline: number(
      alarms.p99RatioAboveBaseline,
      "alarms.p99RatioAboveBaseline",
      DEFAULT_ALARMS.p99RatioAboveBaseline,
      errors,
    ),
    p99ForMs: seconds(alarms.p99ForSeconds, "alarms.p99ForSeconds", DEFAULT_ALARMS.p99ForMs, errors),
    readinessLostForMs: seconds(
      alarms.readinessLostForSeconds,
      "alarms.readinessLostForSeconds",
      DEFAULT_ALARMS.readinessLostForMs,
      errors,
    ),
    windowMs: seconds(alarms.windowSeconds, "alarms.windowSeconds", DEFAULT_ALARMS.windowMs, errors, 0.1),
    minWindowRequests: number(
      alarms.minWindowRequests,
      "alarms.minWindowRequests",
      DEFAULT_ALARMS.minWindowRequests,
      errors,
      true,
    ),
  };
}

/** The steps in the order they run: wave by wave, cell by cell, and inside a cell AZ by AZ in azOrder. */
export function planSteps(plan: RolloutPlan, cells: CellAzs): PlannedStep[] {
  const steps: PlannedStep[] = [];
  plan.waves.forEach((wave, w) => {
    for (const cellId of wave) {
      const azs = cells.get(cellId) ?? [];
      for (const az of plan.azOrder) {
        if (azs.includes(az)) steps.push({ index: steps.length, wave: w, cellId, az });
      }
    }
  });
  return steps;
}
