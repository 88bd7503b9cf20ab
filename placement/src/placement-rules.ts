import type { CellEndpoint, CellRecord, CellState, PlaceUserOutcome, UserPlacement } from "./placement-store.js";

/**
 * Rules both adapters enforce identically, so the contract tests see the same
 * answers from SQLite and DynamoDB.
 */

export const CELL_STATES: readonly CellState[] = ["active", "cordoned", "draining", "retired"];
export const PLACEMENT_SOURCES: readonly UserPlacement["source"][] = ["policy", "override"];

/** Policy placements need an active cell; an operator's override may also fill a cordoned one. */
export function placeableStates(source: UserPlacement["source"]): readonly CellState[] {
  return source === "override" ? ["active", "cordoned"] : ["active"];
}

type Refusal = Extract<PlaceUserOutcome, { ok: false }>["reason"];

/** Why `cell` cannot take one more user from `source`; undefined when it can. Capacity binds overrides too. */
export function placementRefusal(cell: CellRecord | undefined, source: UserPlacement["source"]): Refusal | undefined {
  if (cell === undefined) return "unknown-cell";
  if (!placeableStates(source).includes(cell.state)) return "cell-not-active";
  if (!(cell.users < cell.capacity)) return "cell-full";
  return undefined;
}

// Same alphabet as the cell's ids: they appear in table names, metrics labels and URLs.
const CELL_ID = /^[a-z0-9-]{1,40}$/;
// docs/conventions.md: 1..128 of A-Z a-z 0-9 . _ @ : -
const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

export function assertCellId(cellId: string): void {
  if (!CELL_ID.test(cellId)) throw new Error(`invalid cellId ${JSON.stringify(cellId)}: 1..40 of [a-z0-9-]`);
}

export function assertUserId(userId: string): void {
  if (!USER_ID.test(userId)) throw new Error(`invalid userId ${JSON.stringify(userId)}`);
}

export function assertSource(source: string): asserts source is UserPlacement["source"] {
  if (!(PLACEMENT_SOURCES as readonly string[]).includes(source)) {
    throw new Error(`invalid placement source ${JSON.stringify(source)}`);
  }
}

function assertEndpoint(endpoint: CellEndpoint, cellId: string): void {
  const ok =
    typeof endpoint === "object" &&
    endpoint !== null &&
    typeof endpoint.az === "string" &&
    endpoint.az.length > 0 &&
    typeof endpoint.url === "string" &&
    URL.canParse(endpoint.url) &&
    typeof endpoint.weight === "number" &&
    Number.isFinite(endpoint.weight) &&
    endpoint.weight >= 0;
  if (!ok) throw new Error(`invalid endpoint for cell ${cellId}: ${JSON.stringify(endpoint)}`);
}

/** A registry write is operator input (cellctl); refusing nonsense here keeps the router from routing to it. */
export function assertCellInput(cell: Omit<CellRecord, "users" | "updatedAt">): void {
  assertCellId(cell.cellId);
  if (!CELL_STATES.includes(cell.state)) throw new Error(`invalid state ${JSON.stringify(cell.state)}`);
  if (!Number.isSafeInteger(cell.capacity) || cell.capacity < 0) {
    throw new Error(`invalid capacity ${cell.capacity} for cell ${cell.cellId}: a non-negative integer`);
  }
  if (!Array.isArray(cell.endpoints)) throw new Error(`endpoints of cell ${cell.cellId} must be an array`);
  for (const endpoint of cell.endpoints) assertEndpoint(endpoint, cell.cellId);
}

/** A measured capacity is a positive whole number of operations per second (undefined clears it). */
export function assertMaxOpsPerSecond(value: number | undefined, cellId: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new Error(`invalid max ops/s ${value} for cell ${cellId}: a positive integer`);
  }
}

/** Endpoints are stored as JSON text in both adapters; a stored value that does not parse back is corruption. */
export function encodeEndpoints(endpoints: readonly CellEndpoint[]): string {
  return JSON.stringify(endpoints.map(({ az, url, weight }) => ({ az, url, weight })));
}

export function decodeEndpoints(text: string, cellId: string): CellEndpoint[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`stored endpoints of cell ${cellId} are not JSON`);
  }
  if (!Array.isArray(parsed)) throw new Error(`stored endpoints of cell ${cellId} are not an array`);
  for (const endpoint of parsed) assertEndpoint(endpoint as CellEndpoint, cellId);
  return parsed as CellEndpoint[];
}

export function assertState(state: string, cellId: string): CellState {
  if (!(CELL_STATES as readonly string[]).includes(state)) {
    throw new Error(`stored state of cell ${cellId} is invalid: ${JSON.stringify(state)}`);
  }
  return state as CellState;
}

/** Writers kept colliding (or DynamoDB kept throttling) past the retry budget: transient, the caller may retry later. */
export class PlacementContentionError extends Error {
  override readonly name = "PlacementContentionError";
}
