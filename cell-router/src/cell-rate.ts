/**
 * Requests per second this router forwards to each cell, over a sliding window
 * of whole seconds: where the router's onboarding gets a cell's current ops/s
 * (docs/capacity.md). A router sees only its own share; behind a load balancer
 * that spreads clients evenly over `peers` routers, the cell's rate is estimated
 * as this router's × peers (ROUTER_PEERS).
 */
export class CellRateMeter {
  private readonly buckets = new Map<string, { second: number; count: number }[]>();

  constructor(
    private readonly windowSeconds = 10,
    private readonly peers = 1,
    private readonly now: () => number = Date.now,
  ) {}

  hit(cellId: string): void {
    const second = Math.floor(this.now() / 1000);
    let list = this.buckets.get(cellId);
    if (!list) {
      list = [];
      this.buckets.set(cellId, list);
    }
    const last = list.at(-1);
    if (last && last.second === second) last.count += 1;
    else list.push({ second, count: 1 });
    while (list.length > 0 && (list[0]?.second ?? second) <= second - this.windowSeconds - 1) list.shift();
  }

  /** This router's forwarded requests/s to the cell over the last full `windowSeconds` (the current second excluded). */
  ownRate(cellId: string): number {
    const current = Math.floor(this.now() / 1000);
    let count = 0;
    for (const b of this.buckets.get(cellId) ?? []) {
      if (b.second < current && b.second >= current - this.windowSeconds) count += b.count;
    }
    return count / this.windowSeconds;
  }

  /** The cell's estimated ops/s: this router's rate × the routers sharing the traffic. */
  cellRate(cellId: string): number {
    return this.ownRate(cellId) * this.peers;
  }
}
