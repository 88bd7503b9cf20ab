import { UsageError } from "./options.js";

/**
 * k6-style thresholds: `<metric>[{tag:value,...}]:<aggregation><op><number>`, e.g.
 * `http_req_duration:p(99)<100`, `http_req_duration{op:transfer}:p(95)<50`,
 * `http_req_failed:rate<0.001`, `checks:rate>0.999`. Durations in milliseconds.
 * Parsing and evaluation are pure; the run supplies a MetricSource.
 */

export const METRICS = {
  http_req_duration: ["p(N)", "avg", "min", "max", "med"],
  http_req_failed: ["rate"],
  checks: ["rate"],
  http_reqs: ["count", "rate"],
  iterations: ["count", "rate"],
  dropped_iterations: ["count", "rate"],
  iteration_errors: ["count", "rate"],
} as const;

export type MetricName = keyof typeof METRICS;
export const TAG_NAMES = ["op", "cell"] as const;
export type Tags = Partial<Record<(typeof TAG_NAMES)[number], string>>;
type Operator = "<" | "<=" | ">" | ">=" | "==" | "!=";

export interface Threshold {
  /** As written by the user (for the report). */
  source: string;
  metric: MetricName;
  tags: Tags;
  /** "p(99)", "rate", "avg", ... */
  aggregation: string;
  percentile?: number;
  operator: Operator;
  value: number;
}

const SYNTAX =
  /^([a-z_]+)(?:\{([^}]*)\})?:(p\(([0-9]+(?:\.[0-9]+)?)\)|[a-z]+)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?)$/;

export function parseThreshold(text: string): Threshold {
  const bad = (why: string) =>
    new UsageError(
      `malformed threshold ${JSON.stringify(text)}: ${why} (e.g. 'http_req_duration{op:transfer}:p(95)<50')`,
    );
  const match = SYNTAX.exec(text.trim());
  if (!match) throw bad("expected <metric>[{tag:value}]:<aggregation><op><number>");
  const [, metric = "", tagText, aggregation = "", pText, operator = "<", valueText = ""] = match;
  if (!(metric in METRICS)) throw bad(`unknown metric ${metric}; known: ${Object.keys(METRICS).join(", ")}`);
  const allowed = METRICS[metric as MetricName] as readonly string[];
  const kind = pText !== undefined ? "p(N)" : aggregation;
  if (!allowed.includes(kind)) throw bad(`${metric} has ${allowed.join(", ")}, not ${aggregation}`);
  const percentile = pText !== undefined ? Number(pText) : undefined;
  if (percentile !== undefined && !(percentile > 0 && percentile <= 100)) throw bad("a percentile is in (0, 100]");
  const tags: Tags = {};
  if (tagText !== undefined) {
    if (
      metric !== "http_req_duration" &&
      metric !== "http_req_failed" &&
      metric !== "checks" &&
      metric !== "http_reqs"
    ) {
      throw bad(`${metric} has no tags`);
    }
    for (const pair of tagText.split(",")) {
      const [name, value, ...rest] = pair.split(":").map((s) => s.trim());
      if (!name || !value || rest.length > 0) throw bad(`tag filter must be {tag:value}, got {${tagText}}`);
      if (!(TAG_NAMES as readonly string[]).includes(name))
        throw bad(`unknown tag ${name}; known: ${TAG_NAMES.join(", ")}`);
      tags[name as keyof Tags] = value;
    }
  }
  return {
    source: text.trim(),
    metric: metric as MetricName,
    tags,
    aggregation,
    ...(percentile !== undefined ? { percentile } : {}),
    operator: operator as Operator,
    value: Number(valueText),
  };
}

/** What the run measured, filtered by tags. Durations in ms. */
export interface MetricSource {
  /** undefined when no request matched the tags. */
  durations(
    tags: Tags,
  ): { count: number; percentile(p: number): number; mean: number; min: number; max: number } | undefined;
  failed(tags: Tags): { failed: number; total: number };
  checks(tags: Tags): { passed: number; total: number };
  iterations(): number;
  dropped(): number;
  /** Iterations that threw (a scenario's own error, not an HTTP answer). */
  iterationErrors(): number;
  elapsedSeconds(): number;
}

export interface ThresholdResult {
  threshold: string;
  /** The measured value; null when there was nothing to measure (counts as a failure). */
  actual: number | null;
  ok: boolean;
}

function compare(actual: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case "<":
      return actual < value;
    case "<=":
      return actual <= value;
    case ">":
      return actual > value;
    case ">=":
      return actual >= value;
    case "==":
      return actual === value;
    case "!=":
      return actual !== value;
  }
}

/** The measured value a threshold looks at; null when no sample matched (a threshold on nothing fails). */
export function measure(t: Threshold, source: MetricSource): number | null {
  const perSecond = (n: number) => n / Math.max(source.elapsedSeconds(), 1e-9);
  switch (t.metric) {
    case "http_req_duration": {
      const d = source.durations(t.tags);
      if (d === undefined || d.count === 0) return null;
      if (t.percentile !== undefined) return d.percentile(t.percentile);
      if (t.aggregation === "med") return d.percentile(50);
      return t.aggregation === "avg" ? d.mean : t.aggregation === "min" ? d.min : d.max;
    }
    case "http_req_failed": {
      const f = source.failed(t.tags);
      return f.total === 0 ? null : f.failed / f.total;
    }
    case "checks": {
      const c = source.checks(t.tags);
      return c.total === 0 ? null : c.passed / c.total;
    }
    case "http_reqs": {
      const total = source.failed(t.tags).total;
      return t.aggregation === "count" ? total : perSecond(total);
    }
    case "iterations":
      return t.aggregation === "count" ? source.iterations() : perSecond(source.iterations());
    case "dropped_iterations":
      return t.aggregation === "count" ? source.dropped() : perSecond(source.dropped());
    case "iteration_errors":
      return t.aggregation === "count" ? source.iterationErrors() : perSecond(source.iterationErrors());
  }
}

export function evaluateThreshold(t: Threshold, source: MetricSource): ThresholdResult {
  const actual = measure(t, source);
  return { threshold: t.source, actual, ok: actual !== null && compare(actual, t.operator, t.value) };
}

export function evaluateThresholds(thresholds: readonly Threshold[], source: MetricSource): ThresholdResult[] {
  return thresholds.map((t) => evaluateThreshold(t, source));
}
