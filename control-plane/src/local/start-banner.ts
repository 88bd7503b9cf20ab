import type { LocalPlatformOptions } from "./local-platform-options.js";

/** The variables with which cellctl finds this platform (its registry, its router); secrets are never printed. */
const CELLCTL_VARIABLES = [
  "WALLET_DATA_DIR",
  "ROUTER_PORT",
  "PLACEMENT_STORE",
  "DYNAMODB_ENDPOINT",
  "PLACEMENT_TABLE_PREFIX",
];

/** A value as one shell word ('…' when it holds anything but the usual path characters). */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * How to call cellctl for this platform: `npx cellctl`, prefixed with the variables `npm start` was given that
 * cellctl reads too. Without them a copied command opens (and used to create) another registry, or sends the
 * canary to another platform's router on 8080. WALLET_DATA_DIR is given resolved: cellctl resolves it from
 * its own directory.
 */
export function cellctlCommand(options: LocalPlatformOptions, env: NodeJS.ProcessEnv): string {
  const set = CELLCTL_VARIABLES.filter((name) => env[name]?.trim());
  const words = set.map(
    (name) => `${name}=${shellWord(name === "WALLET_DATA_DIR" ? options.dataDir : `${env[name]}`.trim())}`,
  );
  return [...words, "npx cellctl"].join(" ");
}

/** What `npm start` prints once everything runs: where to send requests, how to get a token, what next. */
export function startBanner(
  options: LocalPlatformOptions,
  routerUrls: readonly string[],
  env: NodeJS.ProcessEnv,
): string {
  const cellctl = cellctlCommand(options, env);
  const routers = options.azs.map((az, i) => `${routerUrls[i]} (${az})`).join(", ");
  const secret = env.WALLET_JWT_SECRET ? "\n            (cellctl token needs the same WALLET_JWT_SECRET)" : "";
  const same =
    cellctl === "npx cellctl"
      ? ""
      : `\n  cellctl:  finds this platform by the same variables, in every shell: ${cellctl} cells list`;
  return `
Cellwallet is running: ${options.cells} cells x ${options.azs.length} AZs on the embedded store (${options.dataDir}).
  API:      http://localhost:${options.routerPort}/api/v1      routers: ${routers}
  OpenAPI:  http://localhost:${options.routerPort}/openapi.json${same}
  Token:    TOKEN=$(${cellctl} token --sub alice)${secret}
  Try:      curl -s -X POST localhost:${options.routerPort}/api/v1/wallets -H "Authorization: Bearer $TOKEN" \\
              -H 'Content-Type: application/json' -d '{"userId":"alice"}'
  Rollout:  ${cellctl} versions add v2 --entry <build>/cell-service/dist/main.js && ${cellctl} rollout start --version v2 --yes
  Observe:  npm run observe   (Prometheus with the alert rules, in another shell with the same variables; Grafana
            dashboards in observability/dashboards/, see docs/observability.md)
Press Ctrl-C to stop.`;
}
