import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `npm start`: the local platform on the embedded store, data kept in
 * WALLET_DATA_DIR across restarts. Until the cell router lands, one cell serves
 * the public API directly on ROUTER_PORT, so clients already use the address
 * they will keep using.
 */
const root = fileURLToPath(new URL("../../../", import.meta.url));
const port = Number(process.env.ROUTER_PORT ?? "8080");
const dataDir = resolve(process.env.WALLET_DATA_DIR ?? resolve(root, ".data"));
const cellEntry = resolve(root, "cell-service/dist/main.js");

const children: ChildProcess[] = [];

function startCell(cellId: string, az: string, cellPort: number): ChildProcess {
  const child = spawn(process.execPath, [cellEntry], {
    env: { ...process.env, CELL_ID: cellId, AZ: az, PORT: String(cellPort), WALLET_DATA_DIR: dataDir },
    stdio: ["ignore", "inherit", "inherit"],
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${cellId}/${az} exited (${signal ?? code}); stopping the platform`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  const deadline = setTimeout(() => {
    for (const child of children) child.kill("SIGKILL");
    process.exit(code);
  }, 8000);
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r))))).then(() => {
    clearTimeout(deadline);
    process.exit(code);
  });
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

startCell("cell-1", "az-1", port);

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}

waitReady(`http://127.0.0.1:${port}/ready`).then(
  () => {
    console.log(`
Cellwallet is running (embedded store in ${dataDir}).
  API:      http://localhost:${port}/api/v1   (OpenAPI: http://localhost:${port}/openapi.json)
  Token:    TOKEN=$(npx cellctl token --sub alice)
  Try:      curl -s -X POST localhost:${port}/api/v1/wallets -H "Authorization: Bearer $TOKEN" \\
              -H 'Content-Type: application/json' -d '{"userId":"alice"}'
Press Ctrl-C to stop.`);
  },
  (error: Error) => {
    console.error(error.message);
    stop(1);
  },
);
