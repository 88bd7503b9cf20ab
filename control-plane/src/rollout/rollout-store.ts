import type { Rollout } from "./rollout-state.js";

/**
 * Where rollouts are persisted, shared by every cellctl process (the running
 * controller and the operators who pause, resume or abort it). Two adapters:
 * SQLite in the control plane's data dir, DynamoDB in AWS. Every write is
 * conditional, so two controllers cannot both drive one rollout and two
 * rollouts cannot be active at once.
 */
export type CreateOutcome = { ok: true; rollout: Rollout } | { ok: false; activeRolloutId: string };
export type SaveOutcome = { ok: true; rollout: Rollout } | { ok: false; conflict: true };

export interface RolloutStore {
  /** Stores a new rollout unless another one is active (not completed, aborted or rolled back). */
  create(rollout: Rollout): Promise<CreateOutcome>;
  /**
   * Writes `rollout` if the stored one still has `rollout.revision`; the stored
   * copy gets revision + 1. A terminal rollout frees the active slot in the same write.
   */
  save(rollout: Rollout): Promise<SaveOutcome>;
  get(rolloutId: string): Promise<Rollout | undefined>;
  /** The active rollout, if any. */
  active(): Promise<Rollout | undefined>;
  /** Most recent first. */
  list(limit: number): Promise<Rollout[]>;
  close(): Promise<void>;
}

/** Reads, changes and saves a rollout, re-reading on a conflicting write (another process wrote in between). */
export async function updateRollout(
  store: RolloutStore,
  rolloutId: string,
  change: (current: Rollout) => { ok: true; rollout: Rollout } | { ok: false; refusal: string },
  attempts = 20,
): Promise<{ ok: true; rollout: Rollout } | { ok: false; refusal: string }> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await store.get(rolloutId);
    if (!current) return { ok: false, refusal: `unknown rollout ${rolloutId}` };
    const changed = change(current);
    if (!changed.ok) return changed;
    const saved = await store.save(changed.rollout);
    if (saved.ok) return saved;
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  throw new Error(`rollout ${rolloutId}: too many conflicting writes`);
}
