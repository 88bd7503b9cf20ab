/** A cell as the registry keeps it (its own module so the store port and the migration records share it without a cycle). */

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
  /**
   * Wallet operations per second the cell was measured to hold within its SLO (cellload capacity),
   * set only by setCellMaxOpsPerSecond (putCell keeps it); absent when never measured.
   */
  maxOpsPerSecond?: number;
}
