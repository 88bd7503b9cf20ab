import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { CellRecord } from "@cellwallet/placement";
import { stringify } from "yaml";
import { PROMETHEUS_BIN, PROMETHEUS_WEB_ASSETS, RULE_FILES } from "./paths.js";
import { readRuleGroups } from "./rule-files.js";

/** The scrape jobs; each reads its targets from `<sdDir>/<job>.json` (file_sd, re-read by Prometheus on change). */
export const JOBS = ["cellwallet-cell", "cellwallet-router", "cellwallet-canary", "cellwallet-rollout"] as const;
export type Job = (typeof JOBS)[number];

/** host:port of every replica of every cell the registry routes to (retired cells serve nothing). */
export function cellTargets(cells: readonly CellRecord[]): string[] {
  return cells
    .filter((c) => c.state !== "retired")
    .flatMap((c) => c.endpoints.map((e) => new URL(e.url).host))
    .sort();
}

/** Writes one job's file_sd targets atomically (Prometheus never reads a half-written file). */
export function writeTargets(sdDir: string, job: Job, targets: readonly string[]): void {
  mkdirSync(sdDir, { recursive: true });
  const file = join(sdDir, `${job}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify([{ targets: [...targets] }], null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export interface PrometheusSetup {
  /** Where the configuration, rule files, file_sd targets and the TSDB go. */
  dir: string;
  scrapeInterval: string;
  evaluationInterval: string;
  /** Overrides every rule group's interval (tests evaluate every second). */
  ruleGroupInterval?: string;
}

/** Writes prometheus.yml and the rule files into `dir`; returns the configuration file's path. */
export function writePrometheusConfig(setup: PrometheusSetup): string {
  const sdDir = join(setup.dir, "targets");
  mkdirSync(sdDir, { recursive: true });
  const rules: string[] = [];
  for (const file of RULE_FILES) {
    const groups = readRuleGroups(file).map((g) =>
      setup.ruleGroupInterval ? { ...g, interval: setup.ruleGroupInterval } : g,
    );
    writeFileSync(join(setup.dir, file), stringify({ groups }, { lineWidth: 0 }));
    rules.push(file);
  }
  const config = {
    global: { scrape_interval: setup.scrapeInterval, evaluation_interval: setup.evaluationInterval },
    rule_files: rules,
    scrape_configs: JOBS.map((job) => ({
      job_name: job,
      scrape_timeout: setup.scrapeInterval,
      file_sd_configs: [{ files: [join(sdDir, `${job}.json`)], refresh_interval: "5s" }],
    })),
  };
  for (const job of JOBS) writeTargets(sdDir, job, []);
  const path = join(setup.dir, "prometheus.yml");
  writeFileSync(path, stringify(config));
  return path;
}

export interface RunningPrometheus {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Refuses a port something already listens on: that process's answer to /-/ready would otherwise pass for a
 * Prometheus that failed to bind (a second `npm run observe`, or a system Prometheus on 9090).
 */
function ensurePortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `port ${port} is already in use` : error.message)),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

/** Starts Prometheus on 127.0.0.1:`port` with the configuration in `dir` and waits until it is ready. */
export async function startPrometheus(dir: string, port: number, output: "ignore" | "inherit" = "ignore") {
  await ensurePortFree(port);
  const configFile = join(dir, "prometheus.yml");
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
      "--log.level=warn",
      // Absent when Prometheus came from PATH rather than the unpacked package: its own default is right then.
      ...(existsSync(PROMETHEUS_WEB_ASSETS) ? [`--web.local-assets=${PROMETHEUS_WEB_ASSETS}`] : []),
    ],
    { stdio: ["ignore", output, output === "ignore" ? "pipe" : "inherit"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`prometheus did not become ready on ${url}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const running: RunningPrometheus = {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
  return running;
}

/** An instant query's result vector (throws on a query error). */
export async function instantQuery(
  url: string,
  expr: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown } };
  if (body.status !== "success") throw new Error(`query failed: ${body.error}: ${expr}`);
  const result = body.data?.result;
  return Array.isArray(result) ? (result as never) : [];
}

export interface ActiveAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

export async function activeAlerts(url: string): Promise<ActiveAlert[]> {
  const body = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: ActiveAlert[] } };
  return body.data.alerts;
}
