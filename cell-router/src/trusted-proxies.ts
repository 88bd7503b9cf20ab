import { BlockList, isIP } from "node:net";

/**
 * Who may tell the router a client's address: the proxies in front of it (ROUTER_TRUSTED_PROXIES, IPs or CIDRs).
 * The router is the platform's edge: an X-Forwarded-For from anyone else is the client's own claim, so it is
 * dropped and the cells get only the address the router saw. Passed on unchecked, a client inside the cells'
 * TRUSTED_PROXIES (the routers' own network) could write any address into the audit context of its operations.
 */
export type ProxyTrust = (peer: string) => boolean;

export function proxyTrust(specs: readonly string[]): ProxyTrust {
  if (specs.length === 0) return () => false;
  const list = new BlockList();
  for (const spec of specs) {
    const [address = "", bits] = spec.split("/");
    const family = isIP(address);
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))) {
      throw new Error(`ROUTER_TRUSTED_PROXIES: ${spec} is not an address or CIDR`);
    }
    const type = family === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return (peer) => {
    const unmapped = peer.startsWith("::ffff:") && isIP(peer.slice(7)) === 4 ? peer.slice(7) : peer;
    const family = isIP(unmapped);
    return family !== 0 && list.check(unmapped, family === 6 ? "ipv6" : "ipv4");
  };
}
