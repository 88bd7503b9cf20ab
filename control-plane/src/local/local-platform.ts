import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbPlacementStore } from "../placement/dynamodb-placement-store.js";
import { ensurePlacementTables } from "../placement/ensure-placement-tables.js";
import type { PlacementStore } from "../placement/placement-store.js";
import { SqlitePlacementStore } from "../placement/sqlite-placement-store.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const CELL_ENTRY = resolve(root, "cell-service/dist/main.js");
const ROUTER_ENTRY = resolve(root, "cell-router/dist/main.js");

export interface LocalPlatformOptions {
  dataDir: string;
  cells: number;
  azs: string[];
  /** The first AZ's router listens here; the others on the next ports. */
  routerPort: number;
  /** Cell i (0-based), AZ j listens on cellBasePort + 10*i + j. */
  cellBasePort: number;
  capacity: number;
  /** Extra environment for every process (store choice, secrets, log level). */
  env?: Record<string, string>;
  /** Where process output goes: inherit (the terminal) or ignore. */
  stdio?: "inherit" | "ignore";
}

export interface ManagedProcess {
  name: string;
  kind: "cell" | "router";
  cellId?: string;
  az: string;
  port: number;
  env: Record<string, string>;
  child?: ChildProcess;
}

export function localPlatformOptionsFromEnv(env: NodeJS.ProcessEnv): LocalPlatformOptions {
  const int = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
    return value;
  };
  return {
    dataDir: resolve(env.WALLET_DATA_DIR ?? resolve(root, ".data")),
    cells: int("LOCAL_CELLS", 2),
    azs: (env.LOCAL_AZS ?? "az-1,az-2,az-3").split(",").map((s) => s.trim()),
    routerPort: int("ROUTER_PORT", 8080),
    cellBasePort: int("LOCAL_CELL_BASE_PORT", 9100),
    capacity: int("LOCAL_CELL_CAPACITY", 100_000),
    stdio: "inherit",
  };
}

/**
 * The platform on one machine: every cell in every AZ as its own process (the
 * AZ replicas of a cell share the cell's store), one router per AZ, and the
 * control plane's placement registry. Used by `npm start` and by the end-to-end
 * tests, which kill and restart its processes.
 */
export class LocalPlatform {
  readonly processes: ManagedProcess[] = [];
  readonly cellIds: string[];
  private stopping = false;
  onUnexpectedExit?: (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void;

  constructor(readonly options: LocalPlatformOptions) {
    this.cellIds = Array.from({ length: options.cells }, (_, i) => `cell-${i + 1}`);
    const shared = {
      WALLET_DATA_DIR: options.dataDir,
      TRUSTED_PROXIES: "127.0.0.1",
      ...options.env,
    };
    options.azs.forEach((az, j) => {
      const routerPort = options.routerPort + j;
      this.processes.push({
        name: `router/${az}`,
        kind: "router",
        az,
        port: routerPort,
        env: { ...shared, AZ: az, ROUTER_PORT: String(routerPort), PLACEMENT_SQLITE_PATH: this.placementPath },
      });
      this.cellIds.forEach((cellId, i) => {
        const port = options.cellBasePort + 10 * i + j;
        this.processes.push({
          name: `${cellId}/${az}`,
          kind: "cell",
          cellId,
          az,
          port,
          // Cross-cell credits go through the router of the same AZ.
          env: {
            ...shared,
            CELL_ID: cellId,
            AZ: az,
            PORT: String(port),
            ROUTER_INTERNAL_URL: `http://127.0.0.1:${routerPort}`,
          },
        });
      });
    });
  }

  get placementPath(): string {
    return resolve(this.options.dataDir, "control-plane", "placement.sqlite");
  }

  routerUrl(az = this.options.azs[0]): string {
    const router = this.processes.find((p) => p.kind === "router" && p.az === az);
    if (!router) throw new Error(`no router in ${az}`);
    return `http://127.0.0.1:${router.port}`;
  }

  find(name: string): ManagedProcess {
    const found = this.processes.find((p) => p.name === name);
    if (!found) throw new Error(`no process ${name}`);
    return found;
  }

  private setting(name: string): string | undefined {
    return this.options.env?.[name] ?? process.env[name];
  }

  /** The registry the routers read: SQLite by default, DynamoDB with PLACEMENT_STORE=dynamodb. */
  openPlacementStore(): PlacementStore {
    if (this.setting("PLACEMENT_STORE") !== "dynamodb") return new SqlitePlacementStore({ path: this.placementPath });
    const prefix = this.setting("PLACEMENT_TABLE_PREFIX");
    return new DynamoDbPlacementStore({
      region: this.setting("AWS_REGION") ?? "us-east-1",
      ...(this.setting("DYNAMODB_ENDPOINT") ? { endpoint: this.setting("DYNAMODB_ENDPOINT") } : {}),
      ...(prefix ? { tablePrefix: prefix } : {}),
    });
  }

  /** Locally (moto) the launcher creates the control plane's tables; in AWS the infrastructure does. */
  private async ensureTables(): Promise<void> {
    const endpoint = this.setting("DYNAMODB_ENDPOINT");
    if (this.setting("PLACEMENT_STORE") !== "dynamodb" || !endpoint) return;
    const client = new DynamoDBClient({
      endpoint,
      region: this.setting("AWS_REGION") ?? "us-east-1",
      credentials: {
        accessKeyId: this.setting("AWS_ACCESS_KEY_ID") ?? "test",
        secretAccessKey: this.setting("AWS_SECRET_ACCESS_KEY") ?? "test",
      },
    });
    try {
      await ensurePlacementTables(client, this.setting("PLACEMENT_TABLE_PREFIX"));
    } finally {
      client.destroy();
    }
  }

  /** Registers the cells (idempotent: endpoints refreshed, user counts kept), then starts cells, then routers. */
  async start(): Promise<void> {
    mkdirSync(resolve(this.options.dataDir, "control-plane"), { recursive: true });
    await this.ensureTables();
    const store = this.openPlacementStore();
    try {
      for (const [i, cellId] of this.cellIds.entries()) {
        const existing = await store.getCell(cellId);
        await store.putCell({
          cellId,
          state: existing?.state ?? "active",
          capacity: existing?.capacity ?? this.options.capacity,
          endpoints: this.options.azs.map((az, j) => ({
            az,
            url: `http://127.0.0.1:${this.options.cellBasePort + 10 * i + j}`,
            weight: existing?.endpoints.find((e) => e.az === az)?.weight ?? 1,
          })),
        });
      }
    } finally {
      await store.close();
    }
    const cells = this.processes.filter((p) => p.kind === "cell");
    await Promise.all(cells.map((p) => this.startProcess(p)));
    await Promise.all(this.processes.filter((p) => p.kind === "router").map((p) => this.startProcess(p)));
  }

  /** Starts (or restarts) one process and waits until it is ready. */
  async startProcess(p: ManagedProcess): Promise<void> {
    const entry = p.kind === "cell" ? CELL_ENTRY : ROUTER_ENTRY;
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, ...p.env },
      stdio: ["ignore", this.options.stdio ?? "inherit", this.options.stdio ?? "inherit"],
    });
    p.child = child;
    child.on("exit", (code, signal) => {
      // stopProcess() detaches the child before stopping it: only an exit nobody asked for is unexpected.
      const unexpected = p.child === child;
      if (unexpected) p.child = undefined;
      if (unexpected && !this.stopping) this.onUnexpectedExit?.(p, code, signal);
    });
    await waitReady(`http://127.0.0.1:${p.port}/ready`, child);
  }

  /** Stops one process: SIGTERM drains it, SIGKILL simulates a crash. */
  async stopProcess(p: ManagedProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = p.child;
    if (!child || child.exitCode !== null) return;
    p.child = undefined;
    await new Promise<void>((done) => {
      child.once("exit", () => done());
      child.kill(signal);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const order = [
      ...this.processes.filter((p) => p.kind === "router"),
      ...this.processes.filter((p) => p.kind === "cell"),
    ];
    const kill = setTimeout(() => {
      for (const p of order) p.child?.kill("SIGKILL");
    }, 8000);
    await Promise.all(order.map((p) => this.stopProcess(p)));
    clearTimeout(kill);
  }
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
      // A router whose AZ is evacuated in the registry is up but reports itself out of service.
      if (res.status === 503 && ((await res.json()) as { status?: string }).status === "evacuated") return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
