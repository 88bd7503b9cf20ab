import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { CellRecord } from "@cellwallet/placement";

/**
 * The router's last-known-good copy of the registry and of the user placements
 * it has seen, kept on local disk so that a router restarted while the
 * placement store is unreachable can still route every user it knew.
 */
export interface RouterState {
  version: 1;
  savedAt: number;
  cells: CellRecord[];
  placements: { userId: string; cellId: string; epoch: number }[];
  /**
   * Wallets this router looked up in the relocations (cellId null: never moved). Optional: files written
   * before migrations existed have none.
   */
  relocations?: { walletId: string; cellId: string | null; epoch: number }[];
}

function isCell(value: unknown): value is CellRecord {
  const c = value as CellRecord;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.cellId === "string" &&
    typeof c.state === "string" &&
    Array.isArray(c.endpoints) &&
    c.endpoints.every((e) => typeof e?.az === "string" && typeof e?.url === "string" && typeof e?.weight === "number")
  );
}

function isPlacement(value: unknown): value is RouterState["placements"][number] {
  const p = value as RouterState["placements"][number];
  return typeof p === "object" && p !== null && typeof p.userId === "string" && typeof p.cellId === "string";
}

function isRelocation(value: unknown): value is NonNullable<RouterState["relocations"]>[number] {
  const r = value as NonNullable<RouterState["relocations"]>[number];
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.walletId === "string" &&
    (r.cellId === null || typeof r.cellId === "string")
  );
}

/** The saved state, or undefined when there is none; throws when the file exists but is not a state file. */
export async function loadState(path: string): Promise<RouterState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<RouterState>;
  if (parsed.version !== 1 || !Array.isArray(parsed.cells) || !Array.isArray(parsed.placements)) {
    throw new Error(`${path} is not a router state file`);
  }
  return {
    version: 1,
    savedAt: Number(parsed.savedAt) || 0,
    cells: parsed.cells.filter(isCell),
    placements: parsed.placements.filter(isPlacement).map((p) => ({
      userId: p.userId,
      cellId: p.cellId,
      epoch: Number(p.epoch) || 0,
    })),
    relocations: (Array.isArray(parsed.relocations) ? parsed.relocations : []).filter(isRelocation).map((r) => ({
      walletId: r.walletId,
      cellId: r.cellId,
      epoch: Number(r.epoch) || 0,
    })),
  };
}

/** Writes the state atomically: a complete temp file, flushed, then renamed over the old one. */
export async function saveState(path: string, state: RouterState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const handle = await open(temp, "w", 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
