import {
  API_ROUTES,
  cellHint,
  isCurrency,
  isValidUserId,
  matchRoutePath,
  type RoutePath,
  routePaths,
} from "@cellwallet/contract";

/**
 * Which cell a request belongs to, decided from the request alone. Pure: no
 * I/O, no registry, no placement store. The app turns a Resolution into a cell
 * (placement lookup, onboarding, registry check) and forwards.
 */

/**
 * Paths of the public API (docs/conventions.md) and the internal credit; bounded, so (with the method) they are
 * also metric labels. The names are the contract route table's (API_ROUTES).
 */
export type RouteName =
  | "wallets"
  | "get-wallet"
  | "deposit"
  | "withdraw"
  | "transfer"
  | "get-transfer"
  | "historical-balance"
  | "list-transactions"
  | "get-transaction"
  | "audit"
  | "internal-credit";

export interface MatchedRoute {
  name: RouteName;
  /** Methods the path accepts (HEAD counts as GET). */
  methods: readonly string[];
  /** The resource id the route names first in its path, decoded (undefined when it does not decode). */
  id?: string | undefined;
}

/**
 * The paths the router routes, from the contract's route table: the public API and the internal API. The
 * cell-level paths (/api/v1/cell/…) are not among them: the router answers 404 for those (isCellOnlyPath).
 */
const ROUTED_PATHS: readonly RoutePath[] = routePaths(API_ROUTES.filter((r) => r.audience !== "cell"));
const CELL_ONLY_PATHS: readonly RoutePath[] = routePaths(API_ROUTES.filter((r) => r.audience === "cell"));

/**
 * A path only a cell serves to those who reach it directly (operators and auditors with cellctl: a cell's audit,
 * reconciliation and checkpoints). The router does not route it: passed to "any" cell, an auditor would get the
 * answer of whichever cell the router picked, about that cell only, on the public edge.
 */
export function isCellOnlyPath(path: string): boolean {
  return matchRoutePath(CELL_ONLY_PATHS, path) !== undefined;
}

function decode(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A path with one route is named after it; one with several (GET and POST /wallets) after its resource. */
function pathName(path: RoutePath): RouteName {
  const [first] = path.routes;
  return (path.routes.length === 1 ? first?.name : first?.resource) as RouteName;
}

/** The public API route of `path`, or undefined when the path names none. */
export function matchRoute(path: string): MatchedRoute | undefined {
  const matched = matchRoutePath(ROUTED_PATHS, path);
  if (matched === undefined) return undefined;
  return { name: pathName(matched.path), methods: matched.path.methods, id: decode(matched.parameters[0]) };
}

/** The route name a metric or log line uses for `method` on `route` (GET and POST /wallets differ). */
export function routeLabel(route: MatchedRoute | undefined, method: string): string {
  if (route === undefined) return "unmatched";
  if (route.name === "wallets") return method === "POST" ? "create-wallet" : "find-wallets";
  return route.name;
}

export function isMethodAllowed(route: MatchedRoute, method: string): boolean {
  return route.methods.includes(method === "HEAD" ? "GET" : method);
}

export type Resolution =
  /** POST /wallets for a well-formed body: the user's placement, onboarding an unplaced user. */
  | { kind: "create-wallet"; userId: string }
  /** GET /wallets?userId=U: the user's placement; an unplaced user has no wallets. */
  | { kind: "find-wallets"; userId: string }
  /** A resource whose id names the cell that created it (a transfer: transfers never move on their own). */
  | { kind: "hint"; cellId: string }
  /**
   * A wallet-addressed request: the cell that created the wallet, unless the wallet has moved since
   * (the app consults the placement store's relocations, cached).
   */
  | { kind: "wallet"; walletId: string; cellId: string }
  /** POST /internal/v1/transfers/credit: the receiver's cell, or undefined when toWalletId names none. */
  | { kind: "internal-credit"; cellId: string | undefined; walletId: string }
  /** Cannot tell: any active cell gives the exact validation or not-found answer. */
  | { kind: "any" };

export interface ResolveInput {
  route: MatchedRoute | undefined;
  method: string;
  /** Query string parameters. */
  query: URLSearchParams;
  /** Raw body bytes (empty for requests without a body). */
  body: Uint8Array;
  /** The request's Content-Type header. */
  contentType: string | undefined;
}

const JSON_MEDIA = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * The body as a JSON object, read only to route: undefined unless it is
 * declared application/json, valid UTF-8 and a JSON object. (The bytes are
 * forwarded as they came; the cell parses them losslessly itself.)
 */
export function bodyObject(body: Uint8Array, contentType: string | undefined): Record<string, unknown> | undefined {
  if (!contentType || !JSON_MEDIA.test(contentType.trim())) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * POST /wallets bodies that the cell will accept in shape. Only those may
 * onboard a user: a request the cell would refuse (400) must not consume a
 * placement, so anything else goes to any cell for its exact answer.
 */
function createWalletUser(body: Record<string, unknown> | undefined): string | undefined {
  if (body === undefined) return undefined;
  for (const key of Object.keys(body)) if (key !== "userId" && key !== "currency") return undefined;
  if (body.currency !== undefined && !isCurrency(body.currency)) return undefined;
  return isValidUserId(body.userId) ? body.userId : undefined;
}

function hintOf(id: unknown): string | undefined {
  return typeof id === "string" ? cellHint(id) : undefined;
}

function byHint(id: unknown): Resolution {
  const cellId = hintOf(id);
  return cellId === undefined ? { kind: "any" } : { kind: "hint", cellId };
}

function byWallet(id: unknown): Resolution {
  const cellId = hintOf(id);
  return cellId === undefined ? { kind: "any" } : { kind: "wallet", walletId: id as string, cellId };
}

export function resolve(input: ResolveInput): Resolution {
  const { route, method } = input;
  if (route === undefined) return { kind: "any" };
  switch (route.name) {
    case "wallets": {
      if (method === "POST") {
        const userId = createWalletUser(bodyObject(input.body, input.contentType));
        return userId === undefined ? { kind: "any" } : { kind: "create-wallet", userId };
      }
      const users = input.query.getAll("userId");
      const userId = users.length === 1 ? users[0] : undefined;
      return isValidUserId(userId) ? { kind: "find-wallets", userId } : { kind: "any" };
    }
    case "transfer":
      return byWallet(bodyObject(input.body, input.contentType)?.fromWalletId);
    case "internal-credit": {
      const walletId = bodyObject(input.body, input.contentType)?.toWalletId;
      if (typeof walletId !== "string") return { kind: "any" };
      return { kind: "internal-credit", cellId: hintOf(walletId), walletId };
    }
    case "get-transfer":
      return byHint(route.id);
    default:
      return byWallet(route.id);
  }
}
