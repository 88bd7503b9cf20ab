#!/usr/bin/env node
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { allDashboards, dashboardText } from "./dashboards/index.js";

/** `npm run dashboards`: writes every dashboard's JSON under observability/dashboards/ (committed). */
export const DASHBOARDS_DIR = fileURLToPath(new URL("../dashboards/", import.meta.url));

mkdirSync(DASHBOARDS_DIR, { recursive: true });
for (const { file, dashboard } of allDashboards()) {
  writeFileSync(join(DASHBOARDS_DIR, file), dashboardText(dashboard));
  console.log(`wrote observability/dashboards/${file} (${dashboard.panels?.length ?? 0} panels and rows)`);
}
