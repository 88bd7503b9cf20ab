import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A slow destination: holds every credit request until released, then forwards it to the destination cell.
 * Stands in for the router between the cells (it forwards the same path unchanged).
 */
export class SlowCreditGate {
  private server: Server | undefined;
  private open = true;
  private waiting: (() => void)[] = [];
  private arrivedListeners: (() => void)[] = [];
  arrived = 0;

  constructor(private readonly target: () => string) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.arrived += 1;
        for (const listener of this.arrivedListeners.splice(0)) listener();
        const forward = async () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
          delete headers.host;
          delete headers["content-length"];
          const answer = await fetch(`${this.target()}${req.url}`, {
            method: req.method ?? "POST",
            headers,
            body: Buffer.concat(chunks),
          });
          res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" });
          res.end(await answer.text());
        };
        const go = () => void forward().catch(() => res.destroy());
        if (this.open) go();
        else this.waiting.push(go);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  hold(): void {
    this.open = false;
  }

  release(): void {
    this.open = true;
    for (const go of this.waiting.splice(0)) go();
  }

  /** Resolves once `count` credit requests have arrived in all. */
  async arrivals(count: number): Promise<void> {
    while (this.arrived < count) await new Promise<void>((resolve) => this.arrivedListeners.push(resolve));
  }

  close(): Promise<void> {
    this.release();
    return new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
