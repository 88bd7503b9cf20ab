import { Agent, request } from "undici";

/** A replica's base URL (with or without a path prefix or trailing slash) joined with an absolute path. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

/**
 * Health of every cell replica the registry names: an active probe of each
 * endpoint's /ready every interval, plus passive marks from forwarded requests
 * (a connection error marks the replica down at once; the next good probe
 * brings it back). An endpoint nobody has judged yet counts as healthy.
 */
export interface ProbedEndpoint {
  cellId: string;
  az: string;
  url: string;
}

export interface EndpointHealthOptions {
  intervalMs: number;
  /** Probe timeout; a replica slower than this to say "ready" is not ready. */
  timeoutMs: number;
  onChange?: (endpoint: ProbedEndpoint, healthy: boolean) => void;
}

export class EndpointHealth {
  private readonly state = new Map<string, boolean>();
  private endpoints: ProbedEndpoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  // Probes have their own connections: a replica whose request pool is full of hung
  // requests must still be probed (and found hung) promptly.
  private readonly agent: Agent;

  constructor(private readonly options: EndpointHealthOptions) {
    this.agent = new Agent({
      connections: 2,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
  }

  isHealthy(url: string): boolean {
    return this.state.get(url) ?? true;
  }

  /** The endpoints to probe (the registry's); forgets the health of endpoints no longer listed. */
  setEndpoints(endpoints: ProbedEndpoint[]): void {
    this.endpoints = endpoints;
    const urls = new Set(endpoints.map((e) => e.url));
    for (const url of this.state.keys()) if (!urls.has(url)) this.state.delete(url);
  }

  markFailure(url: string): void {
    this.set(url, false);
  }

  markSuccess(url: string): void {
    this.set(url, true);
  }

  start(): void {
    if (this.timer) return;
    void this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.agent.close().catch(() => undefined);
  }

  /** Probes every endpoint once (in parallel); a round still running is not started again. */
  async probeAll(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await Promise.all(this.endpoints.map((e) => this.probe(e.url)));
    } finally {
      this.probing = false;
    }
  }

  private async probe(url: string): Promise<void> {
    let ok = false;
    try {
      const res = await request(joinUrl(url, "/ready"), {
        dispatcher: this.agent,
        method: "GET",
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.body.dump();
      ok = res.statusCode === 200;
    } catch {
      ok = false;
    }
    // The registry may have dropped the endpoint while the probe ran.
    if (this.endpoints.some((e) => e.url === url)) this.set(url, ok);
  }

  private set(url: string, healthy: boolean): void {
    const before = this.state.get(url);
    this.state.set(url, healthy);
    if (before !== healthy) {
      const endpoint = this.endpoints.find((e) => e.url === url);
      if (endpoint) this.options.onChange?.(endpoint, healthy);
    }
  }
}
