import { fileURLToPath } from "node:url";

/** The repository root (observability/dist/ or observability/src/ → ../../). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const RULES_DIR = fileURLToPath(new URL("../rules/", import.meta.url));
export const DASHBOARDS_DIR = fileURLToPath(new URL("../dashboards/", import.meta.url));
/** Installed by scripts/setup-test-tools.mjs (Debian's prometheus package, unpacked into .tools/). */
export const PROMETHEUS_BIN = `${REPO_ROOT}.tools/bin/prometheus`;
export const PROMTOOL_BIN = `${REPO_ROOT}.tools/bin/promtool`;
/** The rule files Prometheus loads (their promtool tests live in rules/tests/). */
export const RULE_FILES = ["cellwallet-slo.rules.yml", "cellwallet-platform.rules.yml"];
