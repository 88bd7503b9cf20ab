/**
 * The client address a cell records in its audit context: the router passes a client's X-Forwarded-For on only
 * when the client is a proxy it trusts (ROUTER_TRUSTED_PROXIES); otherwise the cell gets only the address the
 * router saw. The "cell" is a small HTTP server that records the header it receives.
 */
import { createServer, type Server } from "node:http";
import { cellScopedId } from "@cellwallet/contract";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { proxyTrust } from "../src/trusted-proxies.js";
import { registerCell, startRouter, tempDir } from "./support.js";

describe("X-Forwarded-For through the router", () => {
  let server: Server;
  let cellUrl = "";
  const seen: (string | undefined)[] = [];
  let store: SqlitePlacementStore;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.url !== "/ready" && req.url !== "/health") seen.push(req.headers["x-forwarded-for"] as string);
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ready","items":[]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    cellUrl = `http://127.0.0.1:${address.port}`;
    store = new SqlitePlacementStore({ path: `${tempDir()}/placement.sqlite` });
    await registerCell(store, "cell-x", [{ az: "az-1", url: cellUrl, weight: 1 }]);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  });

  async function forwardedFor(env: Record<string, string>, header: string): Promise<string | undefined> {
    const router = await startRouter(store, env);
    try {
      seen.length = 0;
      const res = await http(
        router.url,
        "GET",
        `/api/v1/wallets/${cellScopedId("01JD3F6V6Y0M6X8Y9Z0A1B2C3D", "cell-x")}`,
        {
          token: await token("xff-user"),
          headers: { "x-forwarded-for": header },
        },
      );
      expect(res.status, res.text).toBe(200);
      return seen.at(-1);
    } finally {
      await router.close();
    }
  }

  it("drops a client's own X-Forwarded-For: the cell sees the address the router saw", async () => {
    expect(await forwardedFor({}, "6.6.6.6")).toBe("127.0.0.1");
  });

  it("passes it on, with the proxy's address appended, from a proxy in ROUTER_TRUSTED_PROXIES", async () => {
    expect(await forwardedFor({ ROUTER_TRUSTED_PROXIES: "127.0.0.0/8" }, "6.6.6.6")).toBe("6.6.6.6, 127.0.0.1");
  });

  it("reads addresses and CIDRs of both families, and refuses anything else", () => {
    const trusts = proxyTrust(["10.0.0.0/16", "192.0.2.7", "2001:db8::/32"]);
    expect(["10.0.255.1", "::ffff:10.0.0.9", "192.0.2.7", "2001:db8::1"].map(trusts)).toEqual([true, true, true, true]);
    expect(["10.1.0.1", "192.0.2.8", "2001:db9::1", "not-an-ip"].map(trusts)).toEqual([false, false, false, false]);
    expect(proxyTrust([])("127.0.0.1")).toBe(false);
    for (const bad of ["10.0.0.0/33", "nope", "10.0.0.0/x", "::1/129"]) {
      expect(() => proxyTrust([bad])).toThrow(`ROUTER_TRUSTED_PROXIES: ${bad} is not an address or CIDR`);
    }
  });
});
