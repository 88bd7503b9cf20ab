import { INTERNAL_CREDIT_PATH } from "./internal-api.js";

/**
 * The HTTP route table: every path the cells serve to the router and to operators, with its methods. The cell's
 * method check (405 + Allow) and the router's resolution are built from it, and a test holds its public part
 * equal to the OpenAPI document (docs/openapi.json) in both directions, so the three cannot drift apart.
 * (The migration endpoints under /internal/v1/migration are the control plane's, called on a cell directly:
 * contract/src/migration-api.ts.)
 */

/**
 * Who reaches a route: `public` through the router (the OpenAPI document), `cell` on a cell itself only
 * (operators and cellctl; the router answers 404 for it), `internal` cell to cell through the
 * router with a service token.
 */
export type RouteAudience = "public" | "cell" | "internal";

/** The module of the cell's HTTP edge that serves the route (cell-service/src/adapters/http/). */
export type RouteResource = "wallets" | "money-movement" | "transfers" | "transactions" | "audit" | "internal";

export type RouteMethod = "GET" | "POST";

export interface ApiRoute {
  /** The operation's name in metrics and logs (bounded). */
  name: string;
  method: RouteMethod;
  /** OpenAPI-style template: `{name}` is one path segment. */
  path: string;
  resource: RouteResource;
  audience: RouteAudience;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { name: "find-wallets", method: "GET", path: "/api/v1/wallets", resource: "wallets", audience: "public" },
  { name: "create-wallet", method: "POST", path: "/api/v1/wallets", resource: "wallets", audience: "public" },
  { name: "get-wallet", method: "GET", path: "/api/v1/wallets/{walletId}", resource: "wallets", audience: "public" },
  {
    name: "transfer",
    method: "POST",
    path: "/api/v1/wallets/transfer",
    resource: "money-movement",
    audience: "public",
  },
  {
    name: "deposit",
    method: "POST",
    path: "/api/v1/wallets/{walletId}/deposit",
    resource: "money-movement",
    audience: "public",
  },
  {
    name: "withdraw",
    method: "POST",
    path: "/api/v1/wallets/{walletId}/withdraw",
    resource: "money-movement",
    audience: "public",
  },
  {
    name: "get-transfer",
    method: "GET",
    path: "/api/v1/transfers/{transferId}",
    resource: "transfers",
    audience: "public",
  },
  {
    name: "historical-balance",
    method: "GET",
    path: "/api/v1/wallets/{walletId}/balance/historical",
    resource: "transactions",
    audience: "public",
  },
  {
    name: "list-transactions",
    method: "GET",
    path: "/api/v1/wallets/{walletId}/transactions",
    resource: "transactions",
    audience: "public",
  },
  {
    name: "get-transaction",
    method: "GET",
    path: "/api/v1/wallets/{walletId}/transactions/{transactionId}",
    resource: "transactions",
    audience: "public",
  },
  { name: "audit", method: "GET", path: "/api/v1/wallets/{walletId}/audit", resource: "audit", audience: "public" },
  { name: "cell-audit", method: "GET", path: "/api/v1/cell/audit", resource: "audit", audience: "cell" },
  {
    name: "cell-reconciliation",
    method: "GET",
    path: "/api/v1/cell/reconciliation",
    resource: "audit",
    audience: "cell",
  },
  { name: "list-checkpoints", method: "GET", path: "/api/v1/cell/checkpoints", resource: "audit", audience: "cell" },
  {
    name: "get-checkpoint",
    method: "GET",
    path: "/api/v1/cell/checkpoints/{sequence}",
    resource: "audit",
    audience: "cell",
  },
  { name: "internal-credit", method: "POST", path: INTERNAL_CREDIT_PATH, resource: "internal", audience: "internal" },
];

/** One path template and every route on it. */
export interface RoutePath {
  path: string;
  /** Matches the template; group i captures the i-th `{parameter}` (still URL-encoded). */
  pattern: RegExp;
  /** Methods the path accepts, in table order (the order of an Allow header). */
  methods: readonly RouteMethod[];
  routes: readonly ApiRoute[];
}

const PARAMETER = /\{[^/{}]+\}/g;

function patternOf(template: string): RegExp {
  const parts = template.split(PARAMETER).map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("([^/]+)")}$`);
}

const parameterCount = (template: string) => template.match(PARAMETER)?.length ?? 0;

/**
 * The routes grouped by path, literal paths before templated ones, so that `/api/v1/wallets/transfer` is a
 * route of its own and never "the wallet called transfer" (the first path that matches is the one).
 */
export function routePaths(routes: readonly ApiRoute[]): RoutePath[] {
  const byPath = new Map<string, ApiRoute[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  return [...byPath]
    .map(([path, onPath]) => ({
      path,
      pattern: patternOf(path),
      methods: onPath.map((r) => r.method),
      routes: onPath,
    }))
    .sort((a, b) => parameterCount(a.path) - parameterCount(b.path));
}

/** The path `path` names among `paths` (from routePaths) and its raw parameter values, or undefined. */
export function matchRoutePath(
  paths: readonly RoutePath[],
  path: string,
): { path: RoutePath; parameters: string[] } | undefined {
  for (const candidate of paths) {
    const m = candidate.pattern.exec(path);
    if (m) return { path: candidate, parameters: m.slice(1) as string[] };
  }
  return undefined;
}
