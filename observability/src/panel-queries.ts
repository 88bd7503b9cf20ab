import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";

export interface PanelQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface JsonPanel {
  type?: string;
  title?: string;
  targets?: { expr?: string }[];
  panels?: JsonPanel[];
}

/** Every query of every panel (rows' nested panels included) of a dashboard. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  const visit = (panels: JsonPanel[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) {
        if (t.expr) out.push({ dashboard: dashboard.title ?? "", panel: p.title ?? "", expr: t.expr });
      }
      visit(p.panels);
    }
  };
  visit(dashboard.panels as JsonPanel[] | undefined);
  return out;
}

const METRIC = /\b((?:cellwallet|nodejs|process)_[a-zA-Z0-9_]*)/g;
const HISTOGRAM_SERIES = /_(bucket|count|sum)$/;

/**
 * The metric names a PromQL expression reads (this project's and Node's/the process's), with a histogram's
 * _bucket/_count/_sum series reduced to the histogram's name; recording rules (`cellwallet:…`) are not metrics.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const [, name] of expr.matchAll(METRIC)) if (name) names.add(name);
  return [...names];
}

/** The family a sample name belongs to as /metrics declares it (`# TYPE family histogram`). */
export function familyOf(name: string, histograms: ReadonlySet<string>): string {
  const base = name.replace(HISTOGRAM_SERIES, "");
  return base !== name && histograms.has(base) ? base : name;
}

/**
 * Grafana's variables replaced for a direct Prometheus query: every cell and AZ, a rate window that holds
 * several scrapes of the test's short interval.
 */
export function substituteVariables(expr: string, rateWindow = "30s"): string {
  return expr.replaceAll("$__rate_interval", rateWindow).replaceAll('"$cell"', '".*"').replaceAll('"$az"', '".*"');
}
