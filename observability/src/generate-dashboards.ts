#!/usr/bin/env node
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allDashboards, dashboardText } from "./dashboards/index.js";
import { DASHBOARDS_DIR } from "./paths.js";

/** `npm run dashboards`: writes every dashboard's JSON under observability/dashboards/ (committed). */

mkdirSync(DASHBOARDS_DIR, { recursive: true });
for (const { file, dashboard } of allDashboards()) {
  writeFileSync(join(DASHBOARDS_DIR, file), dashboardText(dashboard));
  console.log(`wrote observability/dashboards/${file} (${dashboard.panels?.length ?? 0} panels and rows)`);
}
