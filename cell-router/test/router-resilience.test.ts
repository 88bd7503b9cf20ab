/**
 * The router through failures: the placement store goes away (static
 * stability), a cell's replica in the router's own AZ dies (failover), and the
 * router as the process operators run (dist/main.js, SIGTERM).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cellHint } from "@cellwallet/contract";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { freePort } from "../../test-support/moto-server.js";
import { token } from "../../test-support/tokens.js";
import {
  type CellReplicas,
  metricSum,
  type RouterUnderTest,
  registerCell,
  startCell,
  startRouter,
  tempDir,
  waitFor,
} from "./support.js";

const API = "/api/v1";
const root = new URL("../..", import.meta.url).pathname;

let cell: CellReplicas;
const routers: RouterUnderTest[] = [];
const stores: SqlitePlacementStore[] = [];

function openStore(path = join(tempDir(), "placement.sqlite")): SqlitePlacementStore {
  const store = new SqlitePlacementStore({ path });
  stores.push(store);
  return store;
}

async function started(...args: Parameters<typeof startRouter>): Promise<RouterUnderTest> {
  const router = await startRouter(...args);
  routers.push(router);
  return router;
}

beforeAll(async () => {
  cell = await startCell("cell-a", ["az-1", "az-2"]);
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  await Promise.all(stores.map((s) => s.close()));
  await cell?.stop();
});

describe("static stability: the placement store goes away", () => {
  it("keeps serving known users from memory and from its state file; only new users get 503", async () => {
    const storePath = join(tempDir(), "placement.sqlite");
    const stateFile = join(tempDir(), "router-az-1.json");
    const store = openStore(storePath);
    await registerCell(store, "cell-a", cell.endpoints());
    const env = { ROUTER_STATE_FILE: stateFile, ROUTER_PLACEMENT_TTL_MS: "200", ROUTER_PLACEMENT_TIMEOUT_MS: "300" };
    const first = await started(store, env);

    const sam = await token("sam");
    const created = await http(first.url, "POST", `${API}/wallets`, { token: sam, body: { userId: "sam" } });
    expect(created.status).toBe(201);
    const walletId = created.body.walletId as string;
    await waitFor(
      () => existsSync(stateFile) && readFileSync(stateFile, "utf8").includes('"sam"'),
      15_000,
      "the state file to name sam",
    );
    const saved = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(saved.cells.map((c: { cellId: string }) => c.cellId)).toEqual(["cell-a"]);

    // The store breaks. Past the TTL, sam is still served from memory.
    await store.close();
    await new Promise((r) => setTimeout(r, 300));
    const list = await http(first.url, "GET", `${API}/wallets?userId=sam`, { token: sam });
    expect(list.status).toBe(200);
    expect(list.body.items[0].walletId).toBe(walletId);
    const deposit = await http(first.url, "POST", `${API}/wallets/${walletId}/deposit`, {
      token: sam,
      body: { amount: "5.00" },
      idempotencyKey: "during-outage",
    });
    expect(deposit.status).toBe(201);
    // Creating the wallet again reaches the cell (409), it does not need the store.
    const again = await http(first.url, "POST", `${API}/wallets`, { token: sam, body: { userId: "sam" } });
    expect(again.status).toBe(409);

    const newbie = await token("newbie");
    const refused = await http(first.url, "POST", `${API}/wallets`, { token: newbie, body: { userId: "newbie" } });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("cell-unavailable");
    expect(refused.headers.get("retry-after")).toBe("1");
    // Unknown user, store unreachable: "no wallets" would be a guess, so 503 too.
    expect((await http(first.url, "GET", `${API}/wallets?userId=newbie`, { token: newbie })).status).toBe(503);
    expect((await http(first.url, "GET", "/ready")).status).toBe(200);
    const metrics = (await http(first.url, "GET", "/metrics")).text;
    expect(metricSum(metrics, "cellwallet_router_placement_cache_total", { result: "stale" })).toBeGreaterThan(0);
    expect(metricSum(metrics, "cellwallet_router_placement_store_errors_total")).toBeGreaterThan(0);
    await first.close();

    // A router started while the store is unreachable routes sam from the state file alone.
    const unreachable = new SqlitePlacementStore({ path: storePath });
    await unreachable.close();
    const second = await started(unreachable, env);
    expect((await http(second.url, "GET", "/ready")).status).toBe(200);
    const fromFile = await http(second.url, "GET", `${API}/wallets?userId=sam`, { token: sam });
    expect(fromFile.status).toBe(200);
    expect(fromFile.body.items[0]).toMatchObject({ walletId, balance: "5.00" });
    const moreMoney = await http(second.url, "POST", `${API}/wallets/${walletId}/deposit`, {
      token: sam,
      body: { amount: "1.00" },
    });
    expect(moreMoney.status).toBe(201);
    expect(
      (await http(second.url, "POST", `${API}/wallets`, { token: newbie, body: { userId: "newbie" } })).status,
    ).toBe(503);

    // Without a state file and without a store the router knows no cell: not ready, and says so.
    const blind = await started(unreachable, { ...env, ROUTER_STATE_FILE: join(tempDir(), "none.json") });
    expect((await http(blind.url, "GET", "/ready")).status).toBe(503);
    const noRegistry = await http(blind.url, "GET", `${API}/wallets/${walletId}`, { token: sam });
    expect(noRegistry.status).toBe(503);
  });

  it("ignores a corrupt state file and reads the store", async () => {
    const stateFile = join(tempDir(), "router-az-1.json");
    writeFileSync(stateFile, "{ not json");
    const store = openStore();
    await registerCell(store, "cell-a", cell.endpoints());
    const router = await started(store, { ROUTER_STATE_FILE: stateFile });
    expect((await http(router.url, "GET", "/ready")).status).toBe(200);
    const una = await token("una");
    expect((await http(router.url, "POST", `${API}/wallets`, { token: una, body: { userId: "una" } })).status).toBe(
      201,
    );
    await waitFor(() => readFileSync(stateFile, "utf8").includes('"una"'), 15_000, "the state file rewritten");
  });
});

describe("AZ failover", () => {
  it("keeps every GET and every POST succeeding while the own-AZ replica of the cell dies", async () => {
    const store = openStore();
    await registerCell(store, "cell-a", cell.endpoints());
    const router = await started(store);
    const fay = await token("fay");
    const created = await http(router.url, "POST", `${API}/wallets`, { token: fay, body: { userId: "fay" } });
    expect(created.status).toBe(201);
    const walletId = created.body.walletId as string;
    expect(cellHint(walletId)).toBe("cell-a");

    const failures: string[] = [];
    let deposits = 0;
    let operations = 0;
    const keys: string[] = [];
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        // Every third POST carries no key: the router adds one of its own and may retry it just the same.
        const key = i % 3 === 2 ? undefined : `fay-${w}-${i}`;
        const post = await http(router.url, "POST", `${API}/wallets/${walletId}/deposit`, {
          token: fay,
          body: { amount: "1.00" },
          ...(key ? { idempotencyKey: key } : {}),
        });
        operations += 1;
        if (post.status === 201) {
          deposits += 1;
          if (key) keys.push(key);
        } else failures.push(`POST ${post.status} ${post.text}`);
        const get = await http(router.url, "GET", `${API}/wallets/${walletId}`, { token: fay });
        operations += 1;
        if (get.status !== 200) failures.push(`GET ${get.status} ${get.text}`);
      }
    };
    const az1 = cell.replicas["az-1"];
    if (!az1) throw new Error("no az-1 replica");
    const killer = (async () => {
      await waitFor(() => operations >= 30, 10_000, "traffic before the kill");
      await az1.stop("SIGKILL");
    })();
    await Promise.all([worker(1), worker(2), worker(3), worker(4), killer]);

    expect(failures).toEqual([]);
    expect(deposits).toBe(100);
    // Every deposit exactly once: retries replayed, never repeated.
    const wallet = await http(router.url, "GET", `${API}/wallets/${walletId}`, { token: fay });
    expect(wallet.body).toMatchObject({ balance: "100.00", version: 100 });
    const replay = await http(router.url, "POST", `${API}/wallets/${walletId}/deposit`, {
      token: fay,
      body: { amount: "1.00" },
      idempotencyKey: keys[0] as string,
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");

    const metrics = (await http(router.url, "GET", "/metrics")).text;
    expect(
      metricSum(metrics, "cellwallet_router_cell_requests_total", { cell: "cell-a", cell_az: "az-2" }),
    ).toBeGreaterThan(0);
    expect(
      metricSum(metrics, "cellwallet_router_failovers_total", { cell: "cell-a", cell_az: "az-1" }),
    ).toBeGreaterThan(0);
    await waitFor(() => !router.router.health.isHealthy(az1.url), 15_000, "az-1 marked unhealthy");
  });
});

describe("the router process", () => {
  it("starts from the environment, serves, and stops on SIGTERM saving its state", async () => {
    const dataDir = tempDir();
    const placementPath = join(dataDir, "control-plane", "placement.sqlite");
    const store = openStore(placementPath);
    await registerCell(store, "cell-a", cell.endpoints());
    const port = await freePort();
    const child = spawn(process.execPath, [join(root, "cell-router/dist/main.js")], {
      env: { PATH: process.env.PATH ?? "", WALLET_DATA_DIR: dataDir, ROUTER_PORT: String(port), AZ: "az-2" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          try {
            return (await fetch(`${url}/ready`)).status === 200;
          } catch {
            return false;
          }
        },
        15_000,
        `the router process to be ready: ${output}`,
      );
      const gus = await token("gus");
      const created = await http(url, "POST", `${API}/wallets`, { token: gus, body: { userId: "gus" } });
      expect(created.status).toBe(201);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const line = output.split("\n").find((l) => l.includes('"cell-router listening"'));
      expect(JSON.parse(line as string)).toMatchObject({ service: "cell-router", az: "az-2", level: "info" });
      const state = JSON.parse(readFileSync(join(dataDir, "router-az-2.json"), "utf8"));
      expect(state.placements).toContainEqual(expect.objectContaining({ userId: "gus", cellId: "cell-a" }));
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses the development internal secret in production mode", async () => {
    const child = spawn(process.execPath, [join(root, "cell-router/dist/main.js")], {
      env: {
        PATH: process.env.PATH ?? "",
        WALLET_MODE: "production",
        WALLET_JWT_SECRET: "y".repeat(40),
        ROUTER_PORT: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(2);
    expect(output).toContain("CELL_INTERNAL_SECRET");
  });
});

describe("onboarding while a cell is down", () => {
  it("places new users in a cell the router can reach, even when the dead cell is the least filled", async () => {
    const down = await startCell("cell-b", ["az-1"]);
    try {
      const store = openStore();
      await registerCell(store, "cell-a", cell.endpoints());
      await registerCell(store, "cell-b", down.endpoints());
      // cell-a fuller than cell-b: the policy alone would put every new user in cell-b.
      for (const user of ["old-1", "old-2", "old-3"])
        expect((await store.placeUser(user, "cell-a", "override")).ok).toBe(true);
      const router = await started(store, { ROUTER_HEALTH_INTERVAL_MS: "100" });
      const create = async (userId: string) =>
        http(router.url, "POST", `${API}/wallets`, { token: await token(userId), body: { userId } });

      const before = await create("nia-0");
      expect(before.status).toBe(201);
      expect(cellHint(before.body.walletId as string)).toBe("cell-b");

      await down.stop();
      await waitFor(
        async () =>
          metricSum((await http(router.url, "GET", "/metrics")).text, "cellwallet_router_endpoint_healthy", {
            cell: "cell-b",
          }) === 0,
        10_000,
        "the router sees cell-b down",
      );
      for (const userId of ["nia-1", "nia-2", "nia-3", "nia-4"]) {
        const created = await create(userId);
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(cellHint(created.body.walletId as string)).toBe("cell-a");
      }
      expect((await store.getUserPlacement("nia-4"))?.cellId).toBe("cell-a");
    } finally {
      await down.stop();
    }
  });
});

describe("a cell with every replica down", () => {
  it("answers its known users 503 cell-unavailable at once, never 404", async () => {
    const store = openStore();
    await registerCell(store, "cell-a", cell.endpoints());
    // A deadline far above the bound below: an answer that waited for it cannot pass for one that did not, however
    // slow the machine.
    const router = await started(store, { ROUTER_CELL_TIMEOUT_MS: "20000" });
    const vic = await token("vic");
    const created = await http(router.url, "POST", `${API}/wallets`, { token: vic, body: { userId: "vic" } });
    expect(created.status).toBe(201);
    const walletId = created.body.walletId as string;
    await Promise.all(
      Object.values(cell.replicas).map((r) =>
        r.child.exitCode === null && r.child.signalCode === null ? r.stop("SIGKILL") : null,
      ),
    );

    for (const [method, path, body] of [
      ["GET", `${API}/wallets/${walletId}`, undefined],
      ["GET", `${API}/wallets?userId=vic`, undefined],
      ["POST", `${API}/wallets/${walletId}/deposit`, { amount: "1.00" }],
    ] as const) {
      const startedAt = performance.now();
      const res = await http(router.url, method, path, { token: vic, ...(body ? { body } : {}) });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe("cell-unavailable");
      expect(res.headers.get("retry-after")).toBe("1");
      // Connections are refused: no need to wait for the deadline.
      expect(performance.now() - startedAt).toBeLessThan(5000);
    }
  });
});
