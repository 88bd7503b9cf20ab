import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { allDashboards, dashboardText } from "../src/dashboards/index.js";
import { metricNames, panelQueries } from "../src/panel-queries.js";
import { DATASOURCE } from "../src/panels.js";

const dir = new URL("../dashboards/", import.meta.url);

describe("dashboards as code", () => {
  it("the committed JSON is what the code generates (run `npm run dashboards` after a change)", () => {
    const generated = allDashboards();
    expect(readdirSync(dir).sort()).toEqual(generated.map((d) => d.file).sort());
    for (const { file, dashboard } of generated) {
      expect(readFileSync(new URL(file, dir), "utf8"), `${file} is stale`).toBe(dashboardText(dashboard));
    }
  });

  it("every panel has a title, a description and a query on the chosen Prometheus", () => {
    for (const { dashboard } of allDashboards()) {
      const panels = (dashboard.panels ?? []).filter((p) => p.type !== "row") as {
        title?: string;
        description?: string;
        targets?: { expr?: string; datasource?: { uid?: string } }[];
      }[];
      expect(panels.length).toBeGreaterThan(5);
      for (const p of panels) {
        expect(p.title).toBeTruthy();
        expect(p.description, p.title).toBeTruthy();
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.expr, p.title).toBeTruthy();
          expect(t.datasource?.uid).toBe(DATASOURCE.uid);
          expect(metricNames(t.expr ?? "").length, t.expr).toBeGreaterThan(0);
        }
      }
    }
  });

  it("has unique uids and the variables the issue asks for (cell, az on the cell dashboard)", () => {
    const dashboards = allDashboards().map((d) => d.dashboard);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    const cell = dashboards.find((d) => d.uid === "cellwallet-cell");
    expect(cell?.templating?.list?.map((v) => v.name)).toEqual(["datasource", "cell", "az"]);
    expect(panelQueries(cell as never).every((q) => q.expr.includes('cell=~"$cell"'))).toBe(true);
  });
});
