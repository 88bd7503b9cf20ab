/**
 * What `cellctl az evacuate | restore` needs from a way of shifting traffic
 * between AZs: plan a weight change, apply it, and recognise its own earlier
 * evacuations in the operator audit trail (to restore the weights they replaced).
 */

/** One weight changed by an evacuation or a restore; drivers add what identifies the target. */
export interface WeightChange {
  az: string;
  from: number;
  to: number;
}

export type TrafficPlan<C extends WeightChange> =
  | { ok: true; changes: C[]; unchanged: string[] }
  | { ok: false; refusals: string[] };

export interface AzTrafficDriver<C extends WeightChange> {
  /** Recorded as `details.driver` in the operator audit trail. */
  readonly name: string;
  /** What the driver acts on (recorded in the audit details next to the changes). */
  readonly scope: Record<string, string>;
  /** Sets `az`'s weight(s) to 0; refused as a whole when that would leave nothing in service. */
  planEvacuation(az: string): Promise<TrafficPlan<C>>;
  /** Gives `az`'s zero weight(s) back: `explicitWeight`, else the one before the evacuation, else 1. */
  planRestore(
    az: string,
    previous: (key: string) => number | undefined,
    explicitWeight?: number,
  ): Promise<TrafficPlan<C>>;
  apply(changes: readonly C[]): Promise<void>;
  /** Whether an `az.evacuate` record's details were written by this driver for the same scope. */
  ownsAuditDetails(details: Record<string, unknown>): boolean;
  /** The key under which a change's previous weight is remembered (a cell, a record type). */
  keyOf(change: C): string | undefined;
  /** Human table: header, one row per change, one per unchanged target, and the closing note. */
  table: {
    header: string;
    row(change: C): string;
    unchanged(target: string, az: string, verb: string): string;
    applied: string;
  };
  close(): Promise<void>;
}

/** A target that does not exist (unknown cell, AZ or record): cellctl exits 2. */
export class UsageError extends Error {}
