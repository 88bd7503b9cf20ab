import { BlockList, isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { MiddlewareHandler } from "hono";
import type { CellEnv } from "./context.js";

/**
 * The client's address: the socket peer, unless the peer is a configured trusted
 * proxy, in which case X-Forwarded-For is walked from the right past trusted
 * hops. A forwarded header from anyone else is ignored: it is client-controlled.
 */
export class ClientIpResolver {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(trustedProxies: string[]) {
    this.any = trustedProxies.length > 0;
    for (const spec of trustedProxies) {
      const [address, prefix] = spec.split("/");
      const family = address ? isIP(address) : 0;
      if (!address || family === 0) throw new Error(`TRUSTED_PROXIES: ${spec} is not an address or CIDR`);
      const type = family === 6 ? "ipv6" : "ipv4";
      if (prefix === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
  }

  private isTrusted(address: string): boolean {
    const normalized = address.startsWith("::ffff:") ? address.slice(7) : address;
    const family = isIP(normalized);
    if (family === 0) return false;
    return this.trusted.check(normalized, family === 6 ? "ipv6" : "ipv4");
  }

  resolve(peer: string | undefined, forwardedFor: string | undefined): string | undefined {
    if (!peer || !this.any || !forwardedFor || !this.isTrusted(peer)) return peer;
    const hops = forwardedFor
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h.length > 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (isIP(hop) === 0) return peer;
      if (!this.isTrusted(hop)) return hop;
    }
    return hops[0] ?? peer;
  }
}

/** Middleware: the resolved client address for the audit context. */
export function clientIpOf(resolver: ClientIpResolver): MiddlewareHandler<CellEnv> {
  return async function setClientIp(c, next) {
    const socket = getConnInfo(c).remote.address;
    c.set("clientIp", resolver.resolve(socket, c.req.header("x-forwarded-for")));
    return next();
  };
}
