import { minorFromFormatted } from "@cellwallet/contract";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { cellctl, entriesOf, type SentOp, sendOp, sleep, verifyChain, waitFinal } from "./migration-support.js";
import { startTestPlatform, TEST_PLATFORM_ENV } from "./platform.js";

/**
 * `cellctl users migrate` while a bank workload runs on the migrated user and
 * on others (deposits, withdrawals, same-cell and cross-cell transfers in both
 * directions, every POST with an Idempotency-Key, 503s retried after
 * Retry-After): no money lost or duplicated, every acknowledged operation
 * exactly once in the ledgers, the chain valid in the target, the placement
 * flipped, the source copy read-only, and a short write pause.
 */
const USERS = [
  { userId: "mig-mover", cell: "cell-1" },
  { userId: "mig-a", cell: "cell-1" },
  { userId: "mig-b", cell: "cell-2" },
  { userId: "mig-c", cell: "cell-2" },
];
const SEED = 50_000n; // 500.00

describe("user migration under a bank workload", () => {
  let platform: LocalPlatform;
  let env: Record<string, string>;
  const wallets = new Map<string, string>();
  const tokens = new Map<string, string>();
  let ops: string;

  beforeAll(async () => {
    // Routers keep what they learned of wallets' cells for 2 minutes: after the move they still send the mover's
    // wallet to cell-1, and only the router's re-forward on cell-1's Wallet-Location answer can serve it at once.
    platform = await startTestPlatform({ env: { ...TEST_PLATFORM_ENV, ROUTER_PLACEMENT_TTL_MS: "120000" } });
    env = { PLACEMENT_SQLITE_PATH: platform.placementPath, CELLCTL_OPERATOR: "e2e" };
    const placement = platform.openPlacementStore();
    for (const u of USERS) await placement.setOverride(u.userId, u.cell);
    await placement.close();
    ops = await token("ops", "wallet:operator");
    const api = platform.routerUrl("az-1");
    for (const u of USERS) {
      tokens.set(u.userId, await token(u.userId));
      const created = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: u.userId } });
      expect(created.status).toBe(201);
      expect(created.body.walletId.endsWith(`-${u.cell}`)).toBe(true);
      wallets.set(u.userId, created.body.walletId);
    }
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("moves a busy user with nothing lost, nothing applied twice, and a short pause", async () => {
    const routers = ["az-1", "az-2", "az-3"].map((az) => platform.routerUrl(az));
    const seen = { walletLocationLeaks: 0 };
    const sent: SentOp[] = [];
    const op = (o: Omit<SentOp, "unavailable" | "pausedMs">): SentOp => {
      const full = { ...o, unavailable: 0, pausedMs: 0 };
      sent.push(full);
      return full;
    };
    const w = (userId: string) => wallets.get(userId) as string;
    for (const u of USERS) {
      await sendOp(
        routers,
        op({ kind: "deposit", key: `seed-${u.userId}`, walletId: w(u.userId), cents: SEED, token: ops }),
        seen,
      );
    }

    let running = true;
    const pairs: [string, string][] = [
      ["mig-mover", "mig-a"], // same cell before the move, cross-cell after
      ["mig-mover", "mig-b"], // cross-cell before, same cell after
      ["mig-a", "mig-mover"],
      ["mig-b", "mig-mover"],
      ["mig-a", "mig-c"],
      ["mig-c", "mig-b"],
    ];
    const workload = Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        for (let n = 0; running || n < 6; n++) {
          const key = `w${client}-${n}`;
          const pick = (client + n) % 4;
          if (n % 3 === 0) {
            const user = USERS[pick]?.userId as string;
            await sendOp(
              routers,
              op({ kind: "deposit", key, walletId: w(user), cents: BigInt(100 + n), token: ops }),
              seen,
            );
          } else if (n % 3 === 1 && n % 2 === 0) {
            const user = USERS[pick]?.userId as string;
            await sendOp(
              routers,
              op({ kind: "withdraw", key, walletId: w(user), cents: BigInt(50 + client), token: ops }),
              seen,
            );
          } else {
            const [from, to] = pairs[(client + n) % pairs.length] as [string, string];
            const transfer = {
              kind: "transfer" as const,
              key,
              walletId: w(from),
              toWalletId: w(to),
              token: tokens.get(from) as string,
            };
            await sendOp(routers, op({ ...transfer, cents: BigInt(1 + ((client * 7 + n * 3) % 90)) }), seen);
          }
        }
      }),
    );

    // Every router looks the mover's wallet up once before the move (and caches that it never moved).
    for (const router of routers) {
      const read = await http(router, "GET", `/api/v1/wallets/${w("mig-mover")}`, { token: ops });
      expect(read.status).toBe(200);
    }
    await sleep(800);
    const migration = await cellctl(["users", "migrate", "mig-mover", "--to", "cell-2", "--yes", "--json"], env);
    await sleep(800);
    running = false;
    await workload;

    expect(migration.code, migration.stderr).toBe(0);
    // Each router, its cache still saying cell-1, serves the moved wallet on the first attempt: cell-1 answers
    // 503 + Wallet-Location and the router re-forwards to cell-2, never passing that 503 or the header on.
    for (const router of routers) {
      const read = await http(router, "GET", `/api/v1/wallets/${w("mig-mover")}`, { token: ops });
      expect([read.status, read.headers.get("wallet-location")], `${router}: ${read.text}`).toEqual([200, null]);
    }
    const outcome = JSON.parse(migration.stdout);
    expect(outcome.migration).toMatchObject({
      state: "completed",
      step: "moved",
      sourceCellId: "cell-1",
      targetCellId: "cell-2",
      toEpoch: 2,
    });
    // Per-step progress went to stderr (stdout is the JSON document).
    expect(migration.stderr).toMatch(/freeze writes in source/);
    expect(migration.stderr).toMatch(/flip placement/);
    // The write pause (freeze sent -> source marked moved) is milliseconds to seconds, not minutes.
    console.info(
      `write pause measured by cellctl: ${outcome.pauseMs} ms; longest wait a client saw: ${Math.max(...sent.map((x) => x.pausedMs))} ms`,
    );
    // The documented pause (0.1-0.7 s, docs/migration.md) is the figure printed above, not asserted here: on a
    // loaded CI machine each of the pause's steps (several processes, their HTTP calls and store writes) can stall
    // for seconds. The bound, over ten times that figure, fails a pause that waits on something (a settle near its
    // 10 s limit, a request's timeout) or grows out of hand.
    expect(outcome.pauseMs).toBeGreaterThanOrEqual(0);
    expect(outcome.pauseMs).toBeLessThan(8000);
    // The mover's clients saw a short run of 503s (Retry-After: 1 honoured), then success: at most the pause's
    // bound and a Retry-After round or two (1.1-1.7 s measured).
    const moverOps = sent.filter((s) => s.walletId === w("mig-mover") || s.toWalletId === w("mig-mover"));
    expect(Math.max(...moverOps.map((s) => s.pausedMs))).toBeLessThan(8000 + 2000);
    expect(seen.walletLocationLeaks).toBe(0);

    // Every operation got a final answer: done, or refused as a business answer that changed nothing.
    for (const s of sent) {
      expect([201, 202, 422], `${s.key} ${s.kind} ${s.walletId} -> ${s.toWalletId}: ${s.status} ${s.answer}`).toContain(
        s.status,
      );
    }
    const acked = sent.filter((s) => s.status === 201 || s.status === 202);
    expect(acked.length).toBeGreaterThan(20);
    expect(moverOps.filter((s) => s.status === 201 || s.status === 202).length).toBeGreaterThan(4);

    const auditor = await token("aud", "wallet:auditor");
    const api = platform.routerUrl("az-2");
    const transferStatus = new Map<string, string>();
    for (const s of acked.filter((x) => x.kind === "transfer")) {
      transferStatus.set(s.id as string, await waitFinal(api, s.id as string, auditor));
    }

    // Money: the sum of balances is exactly the acknowledged deposits minus the acknowledged withdrawals.
    const deposits = acked.filter((s) => s.kind === "deposit").reduce((sum, s) => sum + s.cents, 0n);
    const withdrawals = acked.filter((s) => s.kind === "withdraw").reduce((sum, s) => sum + s.cents, 0n);
    let total = 0n;
    const count = new Map<string, number>();
    const bump = (key: string) => count.set(key, (count.get(key) ?? 0) + 1);
    for (const u of USERS) {
      const wallet = await http(api, "GET", `/api/v1/wallets/${w(u.userId)}`, { token: auditor });
      expect(wallet.status).toBe(200);
      const balance = minorFromFormatted(wallet.body.balance, "USD");
      total += balance;
      const entries = await entriesOf(api, w(u.userId), auditor);
      const chain = verifyChain(entries);
      expect(chain.valid).toBe(true);
      expect(chain.balance).toBe(balance);
      const audit = await http(api, "GET", `/api/v1/wallets/${w(u.userId)}/audit`, { token: auditor });
      expect(audit.body).toMatchObject({ valid: true, entries: entries.length });
      for (const e of entries) {
        expect(minorFromFormatted(e.balanceAfter, "USD")).toBeGreaterThanOrEqual(0n);
        bump(e.transferId ? `${e.type}:${e.transferId}` : `${e.type}:${e.transactionId}`);
      }
    }
    expect(total).toBe(deposits - withdrawals);
    for (const s of acked) {
      if (s.kind === "deposit") expect(count.get(`DEPOSIT:${s.id}`), s.key).toBe(1);
      if (s.kind === "withdraw") expect(count.get(`WITHDRAWAL:${s.id}`), s.key).toBe(1);
      if (s.kind === "transfer") {
        expect(count.get(`TRANSFER_OUT:${s.id}`), s.key).toBe(1);
        const completed = transferStatus.get(s.id as string) === "COMPLETED";
        expect(count.get(`TRANSFER_IN:${s.id}`), s.key).toBe(completed ? 1 : undefined);
        expect(count.get(`TRANSFER_REFUND:${s.id}`), s.key).toBe(completed ? undefined : 1);
      }
    }
    // Nothing in the ledgers that no client was told about.
    const entryCount = [...count.values()].reduce((a, b) => a + b, 0);
    const expectedEntries = acked.reduce((n, s) => n + (s.kind === "transfer" ? 2 : 1), 0);
    expect(entryCount).toBe(expectedEntries);

    // The placement flipped, and the target owns the wallet at the new epoch.
    const located = await cellctl(["users", "locate", "mig-mover", "--json"], env);
    expect(located.code, located.stderr).toBe(0);
    expect(JSON.parse(located.stdout)).toMatchObject({
      placement: { cellId: "cell-2", epoch: 2 },
      wallet: { state: "active", epoch: 2, walletId: w("mig-mover") },
      relocation: { cellId: "cell-2", epoch: 2 },
      migration: null,
    });

    // The source copy is read-only: a write sent straight to a source replica is refused and says where.
    const before = (await http(api, "GET", `/api/v1/wallets/${w("mig-mover")}`, { token: auditor })).body.balance;
    const source = `http://127.0.0.1:${platform.find("cell-1/az-2").port}`;
    const direct = await http(source, "POST", `/api/v1/wallets/${w("mig-mover")}/deposit`, {
      token: ops,
      idempotencyKey: "straight-to-the-source",
      body: { amount: "1.00" },
    });
    expect(direct.status).toBe(503);
    expect(direct.headers.get("wallet-location")).toBe("cell-2");
    expect((await http(api, "GET", `/api/v1/wallets/${w("mig-mover")}`, { token: auditor })).body.balance).toBe(before);

    // The platform's books agree: the moved copy is counted once, in the owning cell.
    const reconcile = await cellctl(["reconcile", "--all", "--json"], env);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);

    // The migration is in the operator audit trail, before and after.
    const log = await cellctl(["audit-log", "--json"], env);
    const actions = (JSON.parse(log.stdout).records as { action: string; target: string }[])
      .filter((r) => r.target === "mig-mover")
      .map((r) => r.action);
    expect(actions).toEqual(["user.migrate", "user.migrate.result"]);
  }, 90_000);
});
