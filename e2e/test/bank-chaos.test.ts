import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";
import { expectTransferBooks, finalTransferStatuses } from "./transfer-books.js";

/**
 * A bank workload across two cells while processes die: one cell's three
 * replicas are SIGKILLed and restarted, and one AZ replica of the other cell is
 * stopped for good. Clients retry with the same Idempotency-Key, as a careful
 * client does. Afterwards every transfer is COMPLETED or FAILED-and-refunded,
 * money is conserved, nothing went negative and nothing was applied twice.
 */
const USERS = Array.from({ length: 10 }, (_, i) => `user${i}`);
const SEED_CENTS = 10_000n; // 100.00 each
const CLIENTS = 12;
const TRANSFERS_PER_CLIENT = 14;

interface Sent {
  key: string;
  body: { fromWalletId: string; toWalletId: string; amount: string };
  token: string;
  status?: number;
  transferId?: string;
}

describe("bank workload across cells under process failures", () => {
  let platform: LocalPlatform;
  const wallets = new Map<string, string>();
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    platform = await startTestPlatform();
    const placement = platform.openPlacementStore();
    for (const [i, user] of USERS.entries()) await placement.setOverride(user, i % 2 === 0 ? "cell-1" : "cell-2");
    await placement.close();
    const ops = await token("ops", "wallet:operator");
    const api = platform.routerUrl("az-1");
    for (const user of USERS) {
      tokens.set(user, await token(user));
      const created = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: user } });
      expect(created.status).toBe(201);
      wallets.set(user, created.body.walletId);
      const seeded = await http(api, "POST", `/api/v1/wallets/${created.body.walletId}/deposit`, {
        token: ops,
        body: { amount: "100.00" },
      });
      expect(seeded.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("conserves money and applies every acknowledged transfer exactly once", async () => {
    const routers = ["az-1", "az-2", "az-3"].map((az) => platform.routerUrl(az));
    const sent: Sent[] = [];

    /** Sends until the platform gives a final answer; retries reuse the key, so nothing applies twice. */
    async function sendWithRetries(s: Sent, client: number): Promise<void> {
      // Until a deadline, not 60 attempts (~6 s of 503s): on a loaded machine the killed cell's restart alone can
      // take longer than that.
      const deadline = Date.now() + 60_000;
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        const router = routers[(client + attempt) % routers.length] as string;
        try {
          const res = await http(router, "POST", "/api/v1/wallets/transfer", {
            token: s.token,
            idempotencyKey: s.key,
            body: s.body,
          });
          if (res.status === 503 || res.status === 409) {
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          s.status = res.status;
          s.transferId = res.body?.transferId;
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100)); // a router's connection dropped: retry
        }
      }
      throw new Error(`no final answer for ${s.key}`);
    }

    const workload = Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let n = 0; n < TRANSFERS_PER_CLIENT; n++) {
          const from = USERS[(client + n) % USERS.length] as string;
          // Alternate same-cell (same parity) and cross-cell destinations.
          const offset = n % 2 === 0 ? 2 : 1;
          const to = USERS[(USERS.indexOf(from) + offset) % USERS.length] as string;
          const s: Sent = {
            key: `c${client}-n${n}`,
            token: tokens.get(from) as string,
            body: {
              fromWalletId: wallets.get(from) as string,
              toWalletId: wallets.get(to) as string,
              amount: `${1 + ((client * 7 + n * 3) % 25)}.${String((client + n) % 100).padStart(2, "0")}`,
            },
          };
          sent.push(s);
          await sendWithRetries(s, client);
        }
      }),
    );

    // Chaos while the workload runs.
    await new Promise((r) => setTimeout(r, 400));
    const cell2 = platform.processes.filter((p) => p.cellId === "cell-2");
    await Promise.all(cell2.map((p) => platform.stopProcess(p, "SIGKILL")));
    await new Promise((r) => setTimeout(r, 800));
    await Promise.all(cell2.map((p) => platform.startProcess(p)));
    await platform.stopProcess(platform.find("cell-1/az-1"), "SIGTERM");
    await workload;

    // Every acknowledged transfer reaches a final state (the workers finish the pending ones).
    const auditor = await token("aud", "wallet:auditor");
    const api = platform.routerUrl("az-2");
    const accepted = sent.filter((s) => s.status === 201 || s.status === 202);
    expect(accepted.length).toBeGreaterThan(sent.length / 2);
    const finalStatus = await finalTransferStatuses(
      api,
      auditor,
      accepted.map((s) => s.transferId as string),
      30_000,
    );
    // Refusals are business answers (422 insufficient funds) that changed nothing.
    for (const s of sent) expect([201, 202, 422]).toContain(s.status);

    // Ledger checks on every wallet: conservation, no negative balance, chains, exactly-once.
    const walletIds = USERS.map((user) => wallets.get(user) as string);
    await expectTransferBooks(api, auditor, walletIds, SEED_CENTS * BigInt(USERS.length), finalStatus);
  }, 180_000);
});
