import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { minorFromFormatted } from "@cellwallet/contract";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { expect } from "vitest";
import { CELLCTL, runCellctl, spawnNodeScript } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { expectTransferBooks, finalTransferStatuses } from "./transfer-books.js";

const ROOT = new URL("../../", import.meta.url).pathname;
export const REPO_CELL_ENTRY = join(ROOT, "cell-service/dist/main.js");
export const FAULTY_CELL_ENTRY = join(ROOT, "e2e/fixtures/faulty-cell.mjs");

/** The environment cellctl runs with against a test platform (short controller lease). */
export function cellctlEnv(platform: LocalPlatform): Record<string, string> {
  return {
    WALLET_DATA_DIR: platform.options.dataDir,
    CELLCTL_OPERATOR: "ci",
    ROLLOUT_LEASE_MS: "1500",
    // A controller with --metrics-port serves its final metrics this long after the rollout ends (default 30 s).
    ROLLOUT_METRICS_LINGER_MS: "1000",
  };
}

export function cellctl(platform: LocalPlatform, args: string[]) {
  return runCellctl(args, cellctlEnv(platform));
}

/** A plan file with short bake and alarm windows (test settings; the defaults are minutes). */
export function writePlan(platform: LocalPlatform, name: string, plan: Record<string, unknown>): string {
  const path = join(platform.options.dataDir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      readyTimeoutSeconds: 30,
      scrapeIntervalSeconds: 0.2,
      ...plan,
    }),
  );
  return path;
}

/** A cellctl process left running (to be killed, or awaited). */
export function spawnCellctl(platform: LocalPlatform, args: string[]) {
  return spawnNodeScript(CELLCTL, args, cellctlEnv(platform));
}

/** The version every cell process reports on /ready, by `cell/az`. */
export async function reportedVersions(platform: LocalPlatform): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of platform.processes.filter((q) => q.kind === "cell")) {
    const res = await http(`http://127.0.0.1:${p.port}`, "GET", "/ready");
    out[p.name] = `${res.status}:${res.body?.version}`;
  }
  return out;
}

export async function rolloutStatus(platform: LocalPlatform, id?: string) {
  const res = await cellctl(platform, ["rollout", "status", ...(id ? [id] : []), "--json"]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout);
}

/** Order of the steps that reached `phase`, as `cell/az`, from the rollout's events. */
export function stepsReaching(
  rollout: { events: Array<{ type: string; cellId?: string; az?: string }> },
  type: string,
) {
  return rollout.events.filter((e) => e.type === type).map((e) => `${e.cellId}/${e.az}`);
}

/** Deposits through every router until stopped: traffic for every replica to bake on. */
export async function startBackgroundDeposits(platform: LocalPlatform, users: string[]) {
  const ops = await token("ops", "wallet:operator");
  const wallets: string[] = [];
  const placement = platform.openPlacementStore();
  for (const [i, user] of users.entries()) {
    await placement.setOverride(user, platform.cellIds[i % platform.cellIds.length] as string);
  }
  await placement.close();
  for (const user of users) {
    const res = await http(platform.routerUrl(), "POST", "/api/v1/wallets", { token: ops, body: { userId: user } });
    expect(res.status).toBe(201);
    wallets.push(res.body.walletId);
  }
  let running = true;
  let sent = 0;
  const routers = platform.options.azs.map((az) => platform.routerUrl(az));
  const loops = routers.flatMap((router, r) =>
    [0, 1].map(async (k) => {
      for (let n = 0; running; n++) {
        const walletId = wallets[(n + k + r) % wallets.length] as string;
        try {
          await http(router, "POST", `/api/v1/wallets/${walletId}/deposit`, {
            token: ops,
            idempotencyKey: `bg-${r}-${k}-${n}`,
            body: { amount: "1.00" },
          });
          sent += 1;
        } catch {
          // a router or cell restarting: carry on
        }
        await new Promise((res) => setTimeout(res, 15));
      }
    }),
  );
  return {
    sent: () => sent,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

interface Sent {
  key: string;
  body: { fromWalletId: string; toWalletId: string; amount: string };
  token: string;
  status?: number;
  transferId?: string;
  attempts: number;
}

/**
 * A bank workload: users in every cell transfer to each other through all
 * routers with an Idempotency-Key per operation, retrying (same key) on 5xx,
 * 409 and dropped connections until a final answer, as a careful client does.
 */
export class BankWorkload {
  readonly sent: Sent[] = [];
  readonly wallets = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private running = false;
  private loops: Promise<void>[] = [];
  retriesAfter5xx = 0;

  constructor(
    private readonly platform: LocalPlatform,
    readonly users: string[],
    private readonly seed = "100.00",
  ) {}

  async setup(): Promise<void> {
    const placement = this.platform.openPlacementStore();
    for (const [i, user] of this.users.entries()) {
      await placement.setOverride(user, this.platform.cellIds[i % 2] as string);
    }
    await placement.close();
    const ops = await token("ops", "wallet:operator");
    const api = this.platform.routerUrl();
    for (const user of this.users) {
      this.tokens.set(user, await token(user));
      const created = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: user } });
      expect(created.status).toBe(201);
      this.wallets.set(user, created.body.walletId);
      const seeded = await http(api, "POST", `/api/v1/wallets/${created.body.walletId}/deposit`, {
        token: ops,
        idempotencyKey: `seed-${user}`,
        body: { amount: this.seed },
      });
      expect(seeded.status).toBe(201);
    }
  }

  start(clients: number): void {
    this.running = true;
    const routers = this.platform.options.azs.map((az) => this.platform.routerUrl(az));
    this.loops = Array.from({ length: clients }, async (_, client) => {
      for (let n = 0; this.running; n++) {
        const from = this.users[(client + n) % this.users.length] as string;
        const to = this.users[(this.users.indexOf(from) + 1 + (n % 3)) % this.users.length] as string;
        const s: Sent = {
          key: `c${client}-n${n}`,
          token: this.tokens.get(from) as string,
          body: {
            fromWalletId: this.wallets.get(from) as string,
            toWalletId: this.wallets.get(to) as string,
            amount: `${1 + ((client * 7 + n * 3) % 9)}.${String((client + n) % 100).padStart(2, "0")}`,
          },
          attempts: 0,
        };
        this.sent.push(s);
        await this.send(s, routers, client);
      }
    });
  }

  private async send(s: Sent, routers: string[], client: number): Promise<void> {
    // Until a deadline, not 200 attempts (~10 s): a loaded machine restarts a step's process slower than that.
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      s.attempts += 1;
      const router = routers[(client + attempt) % routers.length] as string;
      try {
        const res = await http(router, "POST", "/api/v1/wallets/transfer", {
          token: s.token,
          idempotencyKey: s.key,
          body: s.body,
        });
        if (res.status >= 500 || res.status === 409) {
          if (res.status >= 500) this.retriesAfter5xx += 1;
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        s.status = res.status;
        s.transferId = res.body?.transferId;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`no final answer for ${s.key}`);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * Every acknowledged transfer applied exactly once (one debit; one credit or
   * one refund), none applied that was not acknowledged, money conserved, no
   * negative balance, every chain valid.
   */
  async verify(): Promise<void> {
    const auditor = await token("aud", "wallet:auditor");
    const api = this.platform.routerUrl("az-2");
    const accepted = this.sent.filter((s) => s.status === 201 || s.status === 202);
    for (const s of this.sent) expect([201, 202, 422]).toContain(s.status);
    const finalStatus = await finalTransferStatuses(
      api,
      auditor,
      accepted.map((s) => s.transferId as string),
      20_000,
    );
    const walletIds = this.users.map((user) => this.wallets.get(user) as string);
    const expectedTotal = minorFromFormatted(this.seed, "USD") * BigInt(this.users.length);
    await expectTransferBooks(api, auditor, walletIds, expectedTotal, finalStatus);
  }
}
