import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROMTOOL_BIN, REPO_ROOT, RULE_FILES, RULES_DIR } from "../src/paths.js";
import { allRules } from "../src/rule-files.js";

const TESTS_DIR = join(RULES_DIR, "tests");
const promtool = (...args: string[]) =>
  execFileSync(PROMTOOL_BIN, args, { cwd: RULES_DIR, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("alert rules", () => {
  it("pass promtool check rules", () => {
    const out = promtool("check", "rules", ...RULE_FILES);
    for (const file of RULE_FILES) expect(out).toContain(`Checking ${file}`);
    expect(out).not.toContain("FAILED");
  });

  it("pass their promtool unit tests (each alert fires on its failure series, silent on healthy ones)", () => {
    const files = readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yml"));
    expect(files.length).toBeGreaterThanOrEqual(2);
    // promtool exits non-zero on any failed expectation; execFileSync then throws with its output.
    const out = promtool("test", "rules", ...files.map((f) => join("tests", f)));
    expect(out.match(/SUCCESS/g)?.length).toBe(files.length);
  });

  it("every alert has a summary, a description, a severity and a runbook that exists", () => {
    const alerts = allRules().filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(13);
    for (const a of alerts) {
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      expect(["page", "warning"], a.alert).toContain(a.labels?.severity);
      const runbook = a.annotations?.runbook_url ?? "";
      expect(runbook, a.alert).toMatch(/^runbooks\/[a-z0-9-]+\.md$/);
      expect(existsSync(join(REPO_ROOT, runbook)), `${a.alert}: ${runbook}`).toBe(true);
      expect(readFileSync(join(REPO_ROOT, "runbooks", "README.md"), "utf8")).toContain(
        runbook.slice("runbooks/".length),
      );
    }
  });

  it("every alert is documented in docs/observability.md, and its runbooks name only cellctl commands that exist", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "observability.md"), "utf8");
    const help = execFileSync(process.execPath, [join(REPO_ROOT, "control-plane/bin/cellctl.js"), "--help"], {
      encoding: "utf8",
    });
    const commands = new Set([...help.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]));
    for (const a of allRules().filter((r) => r.alert)) {
      const name = a.alert as string;
      const documented =
        doc.includes(`\`${name}\``) ||
        (name.startsWith("CellLatencyBudgetBurn") && doc.includes("`CellLatencyBudgetBurnFast` / `Slow`"));
      expect(documented, name).toBe(true);
      const runbook = readFileSync(join(REPO_ROOT, a.annotations?.runbook_url ?? ""), "utf8");
      for (const [, command] of runbook.matchAll(/npx cellctl ([a-z-]+)/g))
        expect(commands, `${a.alert}: ${command}`).toContain(command);
    }
  });

  it("every alert is unit-tested firing (an expected alert in some promtool test)", () => {
    const tested = new Set<string>();
    for (const f of readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yml"))) {
      const doc = parse(readFileSync(join(TESTS_DIR, f), "utf8")) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      };
      for (const t of doc.tests)
        for (const a of t.alert_rule_test ?? []) if ((a.exp_alerts ?? []).length > 0) tested.add(a.alertname);
    }
    for (const a of allRules().filter((r) => r.alert)) expect(tested, a.alert).toContain(a.alert);
  });
});
