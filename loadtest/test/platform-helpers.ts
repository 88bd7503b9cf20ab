import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { openPlacementStore, type PlacementStore, placementStoreConfigFromEnv } from "@cellwallet/placement";
import { token } from "../../test-support/tokens.js";

/** Helpers of the cellload tests against the local platform (cellload-platform.test.ts). */

/** Wallet operations a cell's replicas have counted (sum over AZs), from their /metrics. */
export async function cellOperations(platform: LocalPlatform, cellId: string): Promise<number> {
  let total = 0;
  for (const az of ["az-1", "az-2", "az-3"]) {
    const text = await (await fetch(`${platform.cellUrl(cellId, az)}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("cellwallet_wallet_operations_total{"))
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

/** Forwards everything to `upstream`, except every 50th deposit: answered 201 and never applied. */
export async function lossyProxy(upstream: string): Promise<{ url: string; server: Server; swallowed: () => number }> {
  let deposits = 0;
  let swallowed = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === "POST" && req.url?.endsWith("/deposit") && ++deposits % 50 === 0) {
      swallowed += 1;
      res
        .writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ transactionId: `lost-${deposits}` }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === "string" && k !== "host" && k !== "content-length") headers[k] = v;
    const answer = await fetch(`${upstream}${req.url}`, {
      method: req.method ?? "GET",
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    res
      .writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" })
      .end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, swallowed: () => swallowed };
}

/** A --token-file naming an operator (wallet:operator, wallet:auditor) and `users`, as an identity provider's. */
export async function writeTokenFile(users: string[]): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), "cellload-tokens-")), "tokens.json");
  const entries = await Promise.all(users.map(async (u) => [u, await token(u)]));
  const operator = await token("idp-operator", "wallet:operator wallet:auditor");
  writeFileSync(file, JSON.stringify({ operator, users: Object.fromEntries(entries) }));
  return file;
}

/** The placement store the local platform's routers read (close it after use). */
export function platformStore(platform: LocalPlatform): PlacementStore {
  return openPlacementStore(placementStoreConfigFromEnv({ PLACEMENT_SQLITE_PATH: platform.placementPath }));
}

/** Gives `userId` a wallet in `cellId` through the router (pinned there first, as an earlier run would have). */
export async function walletInCell(platform: LocalPlatform, userId: string, cellId: string): Promise<void> {
  const store = platformStore(platform);
  try {
    await store.setOverride(userId, cellId);
  } finally {
    await store.close();
  }
  const res = await fetch(`${platform.routerUrl("az-1")}/api/v1/wallets`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await token("idp-operator", "wallet:operator")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ userId }),
  });
  if (res.status !== 201) throw new Error(`wallet of ${userId}: HTTP ${res.status}`);
}
