import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type * as common from "@grafana/grafana-foundation-sdk/common";
import {
  type DashboardBuilder,
  DatasourceVariableBuilder,
  type Panel,
  QueryVariableBuilder,
  RowBuilder,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TablePanel } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";

/** Every panel queries the Prometheus the importer picks for the `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference, not a JS template
export const DATASOURCE: common.DataSourceRef = { type: "prometheus", uid: "${datasource}" };

export const datasourceVariable = () =>
  new DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus");

/** A variable listing the values of one label of a metric (multi-select, "All" by default). */
export function labelVariable(name: string, label: string, metric: string, filter = "") {
  const query = `label_values(${metric}${filter}, ${label})`;
  return new QueryVariableBuilder(name)
    .label(name)
    .datasource(DATASOURCE)
    .query({ query, refId: "PrometheusVariableQueryEditor-VariableQuery", qryType: 1 })
    .definition(query)
    .refresh(2)
    .multi(true)
    .includeAll(true)
    .allValue(".*")
    .current({ text: "All", value: "$__all" });
}

export interface Query {
  expr: string;
  legend?: string;
}

function targets(queries: Query[]): cog.Builder<cog.Dataquery>[] {
  return queries.map((q, i) =>
    new DataqueryBuilder()
      .datasource(DATASOURCE)
      .expr(q.expr)
      .legendFormat(q.legend ?? "__auto")
      .refId(String.fromCharCode(65 + i)),
  );
}

/** A time series panel: `unit` in Grafana's units (s, percentunit, reqps, ops, bytes, short). */
export function timeseries(title: string, description: string, unit: string, queries: Query[], width = 12) {
  return new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(8)
    .targets(targets(queries));
}

/** A single-value panel (the latest value), one per series. */
export function stat(title: string, description: string, unit: string, queries: Query[], width = 6) {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(5)
    .targets(targets(queries));
}

/** A table of the latest values (instant queries), for states and versions. */
export function table(title: string, description: string, queries: Query[], width = 12) {
  return new TablePanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .span(width)
    .height(8)
    .targets(
      queries.map((q, i) =>
        new DataqueryBuilder()
          .datasource(DATASOURCE)
          .expr(q.expr)
          .legendFormat(q.legend ?? "__auto")
          .instant()
          .format(PromQueryFormat.Table)
          .refId(String.fromCharCode(65 + i)),
      ),
    );
}

export type AnyPanel = cog.Builder<Panel>;

/** A dashboard row: its title and its panels, laid out left to right in this order. */
export interface Row {
  title: string;
  panels: AnyPanel[];
}

/** Adds each row, then its panels, in order (one function per row keeps a dashboard readable). */
export function withRows(dashboard: DashboardBuilder, rows: Row[]): DashboardBuilder {
  for (const row of rows) {
    dashboard.withRow(new RowBuilder(row.title));
    for (const panel of row.panels) dashboard.withPanel(panel);
  }
  return dashboard;
}
