import { fileURLToPath } from "node:url";

/** The repository root (observability/dist/ or observability/src/ → ../../). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const RULES_DIR = fileURLToPath(new URL("../rules/", import.meta.url));
export const DASHBOARDS_DIR = fileURLToPath(new URL("../dashboards/", import.meta.url));
/** Installed by scripts/setup-test-tools.mjs (Debian's prometheus package, unpacked into .tools/). */
export const PROMETHEUS_BIN = `${REPO_ROOT}.tools/bin/prometheus`;
export const PROMTOOL_BIN = `${REPO_ROOT}.tools/bin/promtool`;
/**
 * The web UI's templates and static files of that package. Its binary looks for them under /usr/share (where a
 * system install puts them) and its UI pages answer 500 without them, so Prometheus is pointed here instead.
 */
export const PROMETHEUS_WEB_ASSETS = `${REPO_ROOT}.tools/prometheus/root/usr/share/prometheus/web/`;
/** The rule files Prometheus loads (their promtool tests live in rules/tests/). */
export const RULE_FILES = ["cellwallet-slo.rules.yml", "cellwallet-platform.rules.yml"];
