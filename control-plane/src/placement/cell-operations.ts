import type { CellEndpoint, CellRecord, CellState } from "@cellwallet/placement";

/**
 * Pure rules behind `cellctl cells` and `cellctl az`: lifecycle transitions,
 * static stability and AZ evacuation plans. The commands read the registry,
 * ask these functions what to write, record it, then write it.
 */

export type Transition = { ok: true; to: CellState; changed: boolean } | { ok: false; reason: string };

/** cordon: active → cordoned (cordoned stays). uncordon: cordoned → active (active stays). Draining and retired cells are refused. */
export function lifecycleTransition(from: CellState, verb: "cordon" | "uncordon"): Transition {
  if (from === "draining" || from === "retired") {
    return { ok: false, reason: `cell is ${from}: ${verb} applies only to active or cordoned cells` };
  }
  const to: CellState = verb === "cordon" ? "cordoned" : "active";
  return { ok: true, to, changed: from !== to };
}

/** How much spare capacity each AZ replica is provisioned with, as a multiple of its normal share (3 AZs: 1.5). */
export const DEFAULT_AZ_HEADROOM = 1.5;

export interface StaticStability {
  /** AZs in service: weight > 0 and, when probed, ready. */
  inService: number;
  /** AZs registered for the cell. */
  total: number;
  /** The AZ whose loss hurts most (largest weight in service), if any. */
  largestAz: string | null;
  /** Factor by which the remaining in-service AZs' load grows when the largest one is lost (W / (W − w_max)); null when nothing would remain. */
  requiredFactor: number | null;
  headroom: number;
  canLoseOneAz: boolean;
  rule: string;
}

/**
 * Static stability rule: in-service AZs share the cell's load in proportion to
 * their weights (N equal AZs: 1/N each). Losing the largest-weight AZ (w_max of
 * total W) makes the others carry W / (W − w_max) of their current load (N equal
 * AZs: N/(N−1)). The cell can lose one AZ when at least two AZs are in service
 * and that factor is within the per-AZ headroom (default 1.5: three AZs each
 * provisioned for half again their share).
 */
export function staticStability(
  endpoints: readonly CellEndpoint[],
  ready: (endpoint: CellEndpoint) => boolean = () => true,
  headroom = DEFAULT_AZ_HEADROOM,
): StaticStability {
  const serving = endpoints.filter((e) => e.weight > 0 && ready(e));
  const total = serving.reduce((sum, e) => sum + e.weight, 0);
  const largest = [...serving].sort((a, b) => b.weight - a.weight || a.az.localeCompare(b.az))[0];
  const remaining = largest ? total - largest.weight : 0;
  const requiredFactor = largest && remaining > 0 ? total / remaining : null;
  return {
    inService: serving.length,
    total: endpoints.length,
    largestAz: largest?.az ?? null,
    requiredFactor,
    headroom,
    canLoseOneAz: serving.length >= 2 && requiredFactor !== null && requiredFactor <= headroom + 1e-9,
    rule:
      `losing the largest-weight AZ makes the other in-service AZs carry W/(W−w_max) of their load ` +
      `(N equal AZs: N/(N−1)); yes when at least 2 AZs are in service and that is ≤ the headroom ${headroom}`,
  };
}

export interface EvacuationChange {
  cellId: string;
  az: string;
  from: number;
  to: number;
}

export type EvacuationPlan =
  | { ok: true; changes: EvacuationChange[]; unchanged: string[] }
  | { ok: false; refusals: string[] };

/**
 * Sets `az`'s weight to 0 in each cell that has it. Refused as a whole (nothing
 * written) when a cell would be left with no AZ in service. Retired cells and
 * cells without that AZ are skipped; already-evacuated ones are listed as unchanged.
 */
export function planEvacuation(cells: readonly CellRecord[], az: string): EvacuationPlan {
  const changes: EvacuationChange[] = [];
  const unchanged: string[] = [];
  const refusals: string[] = [];
  for (const cell of cells) {
    if (cell.state === "retired") continue;
    const endpoint = cell.endpoints.find((e) => e.az === az);
    if (!endpoint) continue;
    if (!(endpoint.weight > 0)) {
      unchanged.push(cell.cellId);
      continue;
    }
    const others = cell.endpoints.filter((e) => e.az !== az && e.weight > 0);
    if (others.length === 0) {
      refusals.push(`${cell.cellId}: ${az} is its last AZ in service`);
      continue;
    }
    changes.push({ cellId: cell.cellId, az, from: endpoint.weight, to: 0 });
  }
  return refusals.length > 0 ? { ok: false, refusals } : { ok: true, changes, unchanged };
}

/**
 * Gives `az` back its weight in each cell where it is 0: the explicit weight if
 * given, else the weight it had before its last evacuation, else 1.
 */
export function planRestore(
  cells: readonly CellRecord[],
  az: string,
  previousWeight: (cellId: string) => number | undefined,
  explicitWeight?: number,
): { changes: EvacuationChange[]; unchanged: string[] } {
  const changes: EvacuationChange[] = [];
  const unchanged: string[] = [];
  for (const cell of cells) {
    if (cell.state === "retired") continue;
    const endpoint = cell.endpoints.find((e) => e.az === az);
    if (!endpoint) continue;
    if (endpoint.weight > 0) {
      unchanged.push(cell.cellId);
      continue;
    }
    const to = explicitWeight ?? previousWeight(cell.cellId) ?? 1;
    changes.push({ cellId: cell.cellId, az, from: endpoint.weight, to });
  }
  return { changes, unchanged };
}

/** The record to write back: same cell, `az`'s weight replaced. */
export function withWeight(cell: CellRecord, az: string, weight: number): Omit<CellRecord, "users" | "updatedAt"> {
  return {
    cellId: cell.cellId,
    state: cell.state,
    capacity: cell.capacity,
    endpoints: cell.endpoints.map((e) => (e.az === az ? { ...e, weight } : e)),
  };
}

/** Parses `--endpoint az=url`. */
export function parseEndpointOption(text: string): { az: string; url: string } {
  const at = text.indexOf("=");
  const az = at > 0 ? text.slice(0, at).trim() : "";
  const url = at > 0 ? text.slice(at + 1).trim() : "";
  if (!/^[A-Za-z0-9-]{1,40}$/.test(az) || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new Error(`--endpoint expects az=http(s)://host:port, got ${JSON.stringify(text)}`);
  }
  return { az, url };
}
