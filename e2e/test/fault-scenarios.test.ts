import type { LocalPlatform, ManagedProcess } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { bankClients, type FaultAnswer, type SentTransfer } from "./fault-workload.js";
import { startTestPlatform } from "./platform.js";
import { expectTransferBooks, finalTransferStatuses } from "./transfer-books.js";

/**
 * Faults through the public API on one platform, one after the other, under a
 * bank workload whose clients retry with the same Idempotency-Key: a whole cell
 * SIGKILLed (the supervisor brings it back), one AZ replica SIGKILLed, a router
 * SIGKILLed, the placement store unavailable to every router, a cell hanging
 * (SIGSTOP, then SIGCONT). Each time the other cell's users see no error and
 * the affected users only 503 + Retry-After (or, for a dead router, a refused
 * connection on that router); at the end nothing is lost or applied twice,
 * every chain verifies and reconciliation is exact.
 */
const USERS = ["u0", "u1", "u2", "u3", "u4", "u5"]; // even → cell-1, odd → cell-2
const cellOf = (user: string) => (Number(user.slice(1)) % 2 === 0 ? "cell-1" : "cell-2");
const SEED = "100.00";

interface Scenario {
  name: string;
  /** Whose users may see 503 (null: nobody's). */
  affectedCell: "cell-1" | "cell-2" | null;
  /** The router index whose connections may be refused. */
  deadRouter?: number;
  fault(): Promise<void>;
}

describe("fault scenarios through the public API (one platform, sequential)", () => {
  let platform: LocalPlatform;
  const wallets = new Map<string, string>();
  const tokens = new Map<string, string>();
  const sent: SentTransfer[] = [];
  const windows: string[] = [];

  const waitRestarted = async (ps: ManagedProcess[], before: number[]) => {
    const deadline = Date.now() + 30_000;
    while (!ps.every((p, i) => p.child && p.supervision.restarts > (before[i] ?? 0) && p.supervision.upSinceMs)) {
      if (Date.now() > deadline) throw new Error(`not restarted: ${ps.map((p) => p.name).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (names: string[]) => {
    const ps = names.map((n) => platform.find(n));
    const before = ps.map((p) => p.supervision.restarts);
    for (const p of ps) p.child?.kill("SIGKILL");
    await waitRestarted(ps, before);
  };
  const restartRoutersWith = async (env: Record<string, string | undefined>) => {
    for (const p of platform.processes.filter((q) => q.kind === "router")) {
      await platform.stopProcess(p);
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete p.env[k];
        else p.env[k] = v;
      }
      await platform.startProcess(p);
    }
  };

  async function run(s: Scenario): Promise<void> {
    const routers = [0, 1, 2].map((j) => platform.routerUrl(`az-${j + 1}`));
    const clients = bankClients({ routers, users: USERS, wallets, tokens, keyPrefix: s.name });
    await new Promise((r) => setTimeout(r, 400));
    const started = Date.now();
    await s.fault();
    const recovered = Date.now();
    // Until every user got a final answer after the fault (however long the routers' health probes take).
    const deadline = Date.now() + 30_000;
    const servedAgain = () =>
      USERS.every((u) =>
        clients.answers.some(
          (a) => a.sender === u && a.atMs > recovered + 300 && (a.status === 201 || a.status === 202),
        ),
      );
    while (!servedAgain()) {
      if (Date.now() > deadline) throw new Error(`${s.name}: not every user served again`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await clients.stop();
    sent.push(...clients.sent);

    const allowed = (a: FaultAnswer) =>
      a.status === 201 ||
      a.status === 202 ||
      (cellOf(a.sender) === s.affectedCell && ((a.status === 503 && a.retryAfter !== null) || a.status === 409)) ||
      (a.router === s.deadRouter && a.status === "network-error");
    const bad = clients.answers.filter((a) => !allowed(a));
    expect(bad.slice(0, 5), `${s.name}: unexpected answers`).toEqual([]);
    const failed = clients.answers.filter((a) => a.status !== 201 && a.status !== 202);
    // The unavailability window: the longest time without a successful answer to any affected user.
    const affected = clients.answers
      .filter((a) => (s.affectedCell ? cellOf(a.sender) === s.affectedCell : a.router === s.deadRouter))
      .filter((a) => a.status === 201 || a.status === 202)
      .map((a) => a.atMs)
      .sort((x, y) => x - y);
    const gap = affected.slice(1).reduce((m, t, i) => Math.max(m, t - (affected[i] as number)), 0);
    windows.push(
      `${s.name}: fault ${recovered - started} ms; ${failed.length} attempts answered 503/409/refused; longest gap without success for the affected users ${gap} ms (${clients.answers.length} attempts)`,
    );
  }

  beforeAll(async () => {
    platform = await startTestPlatform({ restart: { initialMs: 200, maxMs: 2000, resetAfterMs: 3000 } });
    const placement = platform.openPlacementStore();
    for (const user of USERS) await placement.setOverride(user, cellOf(user));
    await placement.close();
    const ops = await token("ops", "wallet:operator");
    for (const user of USERS) {
      tokens.set(user, await token(user));
      const created = await http(platform.routerUrl(), "POST", "/api/v1/wallets", {
        token: ops,
        body: { userId: user },
      });
      expect(created.status).toBe(201);
      wallets.set(user, created.body.walletId);
      const seeded = await http(platform.routerUrl(), "POST", `/api/v1/wallets/${created.body.walletId}/deposit`, {
        token: ops,
        body: { amount: SEED },
      });
      expect(seeded.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    console.log(`unavailability windows measured:\n  ${windows.join("\n  ")}`);
    await platform?.stop();
  });

  it("a whole cell SIGKILLed: back by the supervisor; only its users see 503", async () => {
    await run({
      name: "cell-2 SIGKILLed",
      affectedCell: "cell-2",
      fault: () => kill(["cell-2/az-1", "cell-2/az-2", "cell-2/az-3"]),
    });
  }, 60_000);

  it("one AZ replica SIGKILLed: the cell's other AZs serve", async () => {
    await run({ name: "cell-1/az-2 SIGKILLed", affectedCell: "cell-1", fault: () => kill(["cell-1/az-2"]) });
  }, 60_000);

  it("a router SIGKILLed and restarted: clients move to another AZ's router", async () => {
    await run({ name: "router/az-1 SIGKILLed", affectedCell: null, deadRouter: 0, fault: () => kill(["router/az-1"]) });
  }, 60_000);

  it("the placement store unavailable to every router: known users keep being served", async () => {
    // Each router restarted (one at a time) on an unreachable registry: it serves from its last-known-good copy.
    const broken = {
      PLACEMENT_STORE: "dynamodb",
      DYNAMODB_ENDPOINT: "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    };
    await restartRoutersWith(broken);
    for (const j of [0, 1, 2]) {
      const ready = await http(platform.routerUrl(`az-${j + 1}`), "GET", "/ready");
      expect(ready.status).toBe(200);
    }
    await run({ name: "placement store unavailable", affectedCell: null, fault: async () => {} });
    // A user the routers never saw cannot be placed meanwhile: 503, not an error.
    const stranger = await http(platform.routerUrl(), "POST", "/api/v1/wallets", {
      token: await token("stranger"),
      body: { userId: "stranger" },
    });
    expect(stranger.status).toBe(503);
    expect(stranger.headers.get("retry-after")).not.toBeNull();
    await restartRoutersWith({
      PLACEMENT_STORE: undefined,
      DYNAMODB_ENDPOINT: undefined,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
    });
  }, 90_000);

  it("a cell hanging (SIGSTOP for 3 s, then SIGCONT): only its users see 503", async () => {
    await run({
      name: "cell-2 hung 3 s",
      affectedCell: "cell-2",
      fault: async () => {
        const cell2 = platform.processes.filter((p) => p.cellId === "cell-2");
        for (const p of cell2) p.child?.kill("SIGSTOP");
        await new Promise((r) => setTimeout(r, 3000));
        for (const p of cell2) p.child?.kill("SIGCONT");
      },
    });
  }, 60_000);

  it("afterwards: every acknowledged transfer applied exactly once, chains valid, books exact", async () => {
    const auditor = await token("aud", "wallet:auditor");
    const api = platform.routerUrl("az-2");
    const accepted = sent.filter((s) => s.status === 201 || s.status === 202);
    expect(accepted.length).toBe(sent.length);
    const finalStatus = await finalTransferStatuses(
      api,
      auditor,
      accepted.map((s) => s.transferId as string),
      30_000,
    );
    const walletIds = USERS.map((u) => wallets.get(u) as string);
    await expectTransferBooks(api, auditor, walletIds, 10_000n * BigInt(USERS.length), finalStatus);
    const env = { WALLET_DATA_DIR: platform.options.dataDir };
    const verify = await runCellctl(["verify", "--all"], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const reconcile = await runCellctl(["reconcile", "--all"], env);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
  }, 120_000);
});
