/**
 * Wallet and transfer ids carry the id of the cell that created them, so the
 * router can find the owning cell without a lookup on the hot path. Clients
 * treat ids as opaque; only the router reads the hint. A user moved to another
 * cell keeps their wallet id, and the placement table then overrides the hint.
 *
 * Shape: `<26-character ULID>-<cellId>`.
 */
const ULID_LENGTH = 26;
const CELL_ID = /^[a-z0-9-]{1,40}$/;

export function cellScopedId(ulid: string, cellId: string): string {
  if (ulid.length !== ULID_LENGTH) throw new Error("cell-scoped ids start with a 26-character ULID");
  if (!CELL_ID.test(cellId)) throw new Error(`not a cell id: ${cellId}`);
  return `${ulid}-${cellId}`;
}

/** The cell that created `id`, or undefined when the id carries no hint. */
export function cellHint(id: string): string | undefined {
  if (id.length < ULID_LENGTH + 2 || id[ULID_LENGTH] !== "-") return undefined;
  const cellId = id.slice(ULID_LENGTH + 1);
  return CELL_ID.test(cellId) ? cellId : undefined;
}
