import type { RunRolloutDeps } from "./rollout-deps.js";
import {
  claimController,
  heartbeatIntervalMs,
  isTerminal,
  type Rollout,
  type RolloutStep,
  type Transition,
} from "./rollout-state.js";
import { updateRollout } from "./rollout-store.js";

/** This controller no longer holds the rollout: another one took over (its writes are refused). */
export class LostControl extends Error {}

/**
 * One controller's hold on one rollout: every write is conditional on still holding the lease (and renews
 * it), reads check it too, a heartbeat keeps it while the controller waits, and every event persisted is
 * published once, in order.
 */
export class RolloutController {
  readonly now: () => number;
  private seen = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly deps: RunRolloutDeps,
    readonly rolloutId: string,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Takes the rollout's controller lease, or says why not (terminal, or another live controller). */
  static async claim(
    deps: RunRolloutDeps,
    rolloutId: string,
  ): Promise<{ ok: true; controller: RolloutController } | { ok: false; refusal: string }> {
    const controller = new RolloutController(deps, rolloutId);
    const claimed = await updateRollout(deps.store, rolloutId, (r) =>
      isTerminal(r)
        ? { ok: false, refusal: `rollout ${rolloutId} is already ${r.status}` }
        : claimController(r, deps.owner, controller.now(), deps.leaseMs),
    );
    if (!claimed.ok) return claimed;
    controller.seen = claimed.rollout.events.length;
    controller.heartbeat = setInterval(() => {
      controller.write((r) => r).catch(() => undefined);
    }, heartbeatIntervalMs(deps.leaseMs));
    return { ok: true, controller };
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** A conditional write by this controller; fails with LostControl if another one took over. */
  async write(change: (r: Rollout) => Transition | Rollout, release = false): Promise<Rollout> {
    const { deps, rolloutId } = this;
    const result = await updateRollout(deps.store, rolloutId, (r) => {
      if (r.controller?.owner !== deps.owner) return { ok: false, refusal: "lost" };
      const t = change(r);
      const next = "ok" in t ? t : ({ ok: true, rollout: t } as const);
      if (!next.ok) return next;
      if (release) return next;
      return {
        ok: true,
        rollout: {
          ...next.rollout,
          controller: { owner: deps.owner, heartbeatAt: new Date(this.now()).toISOString() },
        },
      };
    });
    if (!result.ok) {
      if (result.refusal === "lost") throw new LostControl(`another controller took over rollout ${rolloutId}`);
      throw new Error(`rollout ${rolloutId}: ${result.refusal}`);
    }
    this.publish(result.rollout);
    return result.rollout;
  }

  async read(): Promise<Rollout> {
    const r = await this.deps.store.get(this.rolloutId);
    if (!r) throw new Error(`rollout ${this.rolloutId} vanished`);
    if (r.controller?.owner !== this.deps.owner) {
      throw new LostControl(`another controller took over rollout ${this.rolloutId}`);
    }
    return r;
  }

  /** Where a step's replica answers, from the registry. */
  async urlOf(step: Pick<RolloutStep, "cellId" | "az">): Promise<string | undefined> {
    return (await this.deps.replicas(step.cellId)).find((e) => e.az === step.az)?.url;
  }

  private publish(r: Rollout): void {
    for (const event of r.events.slice(this.seen)) this.deps.onEvent?.(event, r);
    this.seen = r.events.length;
  }
}
