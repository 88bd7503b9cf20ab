import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { cellDashboard } from "./cell.js";
import { controlPlaneDashboard } from "./control-plane.js";
import { platformOverview } from "./platform-overview.js";
import { routerDashboard } from "./router.js";

/** Every dashboard and the file it is committed as under observability/dashboards/. */
export function allDashboards(): { file: string; dashboard: Dashboard }[] {
  return [
    { file: "platform-overview.json", dashboard: platformOverview().build() },
    { file: "cell.json", dashboard: cellDashboard().build() },
    { file: "router.json", dashboard: routerDashboard().build() },
    { file: "control-plane.json", dashboard: controlPlaneDashboard().build() },
  ];
}

/** The committed text of a dashboard: stable key order as built, two-space indent, final newline. */
export function dashboardText(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
