/**
 * The control plane's placement data: which cells exist (the registry) and which
 * cell owns each user. The router reads it; onboarding and cellctl write it.
 * Two adapters (SQLite embedded, DynamoDB) implement this port and pass the
 * same contract tests.
 */

/** active: takes new users. cordoned: keeps its users, takes no new ones. draining: users being moved away. retired: empty, serves nothing. */
export type CellState = "active" | "cordoned" | "draining" | "retired";

export interface CellEndpoint {
  az: string;
  /** Base URL of the cell's replica in this AZ, e.g. http://127.0.0.1:9101 */
  url: string;
  /** Share of traffic for this AZ; 0 evacuates it (the router then uses the other AZs). */
  weight: number;
}

export interface CellRecord {
  cellId: string;
  state: CellState;
  /** Most users the cell may hold (placement never exceeds it). */
  capacity: number;
  /** Users currently placed in the cell (maintained atomically with placements). */
  users: number;
  endpoints: CellEndpoint[];
  /** Epoch ms. */
  updatedAt: number;
}

export interface UserPlacement {
  userId: string;
  cellId: string;
  /** Placement epoch: increases every time the user moves (migration fencing). Starts at 1. */
  epoch: number;
  placedAt: number;
  /** How the cell was chosen. */
  source: "policy" | "override";
}

export type PlaceUserOutcome =
  | { ok: true; placement: UserPlacement; created: boolean }
  | { ok: false; reason: "cell-full" | "cell-not-active" | "unknown-cell" };

export interface PlacementStore {
  listCells(): Promise<CellRecord[]>;
  getCell(cellId: string): Promise<CellRecord | undefined>;
  /** Creates or replaces a cell's registry record, keeping its `users` count when it exists. */
  putCell(cell: Omit<CellRecord, "users" | "updatedAt">): Promise<CellRecord>;
  getUserPlacement(userId: string): Promise<UserPlacement | undefined>;
  /**
   * Places an unplaced user in `cellId`, atomically with incrementing the cell's
   * user count within its capacity and only while the cell is active (an override
   * may also target a cordoned cell). If the user is already placed, returns the
   * existing placement with created=false: the first writer wins.
   */
  placeUser(userId: string, cellId: string, source: UserPlacement["source"]): Promise<PlaceUserOutcome>;
  /** Pinned cell for a user (tests, quarantine, special cases); beats the policy. */
  getOverride(userId: string): Promise<string | undefined>;
  setOverride(userId: string, cellId: string): Promise<void>;
  removeOverride(userId: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
