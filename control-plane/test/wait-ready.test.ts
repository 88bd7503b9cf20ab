import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTANCE_HEADER } from "@cellwallet/contract";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../test-support/moto-server.js";
import { failureLine } from "../src/local/failure-line.js";
import { launchError } from "../src/local/launch-error.js";
import { PortTakenError, waitReady } from "../src/local/wait-ready.js";

const root = new URL("../../", import.meta.url).pathname;
const children: ChildProcess[] = [];
const servers: { server: Server; sockets: Set<Socket> }[] = [];

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** The built cell or router (dist/main.js) as a real process, its stderr collected as the launcher does. */
function launch(kind: "cell" | "router", port: number, instance: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-wait-ready-"));
  const entry = kind === "cell" ? "cell-service/dist/main.js" : "cell-router/dist/main.js";
  const child = spawn(process.execPath, [join(root, entry)], {
    env: {
      ...process.env,
      LOG_LEVEL: "warn",
      WALLET_DATA_DIR: dataDir,
      PLACEMENT_SQLITE_PATH: join(dataDir, "placement.sqlite"),
      [kind === "cell" ? "PORT" : "ROUTER_PORT"]: String(port),
      CELLWALLET_INSTANCE: instance,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return { child, output: () => stderr };
}

function listen<S extends Server>(server: S, port: number): Promise<S> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => sockets.add(socket));
  servers.push({ server, sockets });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

describe("waitReady: only the launched process's answer is ready", () => {
  it.each(["cell", "router"] as const)(
    "the %s echoes its instance id on /ready and /health",
    async (kind) => {
      const port = await freePort();
      const { child, output } = launch(kind, port, "launch-1");
      await waitReady({ url: `http://127.0.0.1:${port}/ready`, child, instance: "launch-1", output });
      for (const path of ["/ready", "/health"]) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get(INSTANCE_HEADER)).toBe("launch-1");
      }
    },
    60_000,
  );

  it.each([
    ["no instance header", {}],
    ["another launch's instance id", { [INSTANCE_HEADER]: "launch-of-another-platform" }],
  ])(
    "another process answering 200 with %s fails the wait at once",
    async (_, headers) => {
      const port = await freePort();
      await listen(
        createHttpServer((_req, res) => {
          res.writeHead(200, { "content-type": "application/json", ...headers });
          res.end('{"status":"ready"}');
        }),
        port,
      );
      // The launched process has not bound anything yet (here: it never will).
      const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
      children.push(child);
      const wait = waitReady({ url: `http://127.0.0.1:${port}/ready`, child, instance: "launch-1" });
      await expect(wait).rejects.toBeInstanceOf(PortTakenError);
      await expect(wait).rejects.toThrow(
        `http://127.0.0.1:${port}/ready is answered by another process, not the one just started (no matching ${INSTANCE_HEADER} header)`,
      );
      expect(child.exitCode).toBeNull(); // the caller (the launcher) kills it
    },
    60_000,
  );

  it("a process that exits first fails the wait as it exits, with its stderr's failure line", async () => {
    const port = await freePort();
    // Holds the port, accepts, never answers: only the launched cell's exit can end the wait early.
    await listen(createServer(), port);
    const { child, output } = launch("cell", port, "launch-1");
    let exitedAt = 0;
    child.once("exit", () => {
      exitedAt = Date.now();
    });
    // Probes that wait 60 s for an answer: only the exit can end this wait in time.
    const url = `http://127.0.0.1:${port}/ready`;
    const error = await waitReady({ url, child, instance: "launch-1", output, probeTimeoutMs: 60_000 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(PortTakenError);
    expect(error?.message).toBe(
      `http://127.0.0.1:${port}/ready: the process exited with 1 before it was ready: ` +
        `cell-service: cannot listen on 127.0.0.1:${port}: the port is in use by another process (EADDRINUSE)`,
    );
    // As it exits, not when the pending probe gives up.
    expect(exitedAt).toBeGreaterThan(0);
    expect(Date.now() - exitedAt).toBeLessThan(15_000);
    // The launcher's line: the process, the port, and what to change.
    expect(launchError({ name: "cell-1/az-1", kind: "cell", port }, error as Error).message).toMatch(
      new RegExp(
        `^cell-1/az-1: .*; port ${port} is held by another process \\(another platform's\\?\\): stop it or set LOCAL_CELL_BASE_PORT to free ports$`,
      ),
    );
  }, 60_000);

  it("an instance id that is not a token is refused at start (exit 2, one line)", async () => {
    const port = await freePort();
    const { child, output } = launch("router", port, "bad id");
    const code = await new Promise((resolve) => child.once("close", resolve));
    expect(code).toBe(2);
    expect(output().trim()).toBe("cell-router: CELLWALLET_INSTANCE must be 1..64 of A-Z a-z 0-9 . _ -, got bad id");
  }, 60_000);
});

describe("failureLine", () => {
  it("is the process's own last line, even with a stack before and a multi-line warning after it", () => {
    const stderr = [
      "Error: boom",
      "    at main (file:///x/main.js:1:1)",
      "cell-service failed to start: boom",
      "(node:123) NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)",
      "versions published after the first week of January 2027",
      "(Use `node --trace-warnings ...` to show where the warning was created)",
      "",
    ].join("\n");
    expect(failureLine(stderr)).toBe("cell-service failed to start: boom");
  });

  it("without one, the last line that is not Node's trailer or a stack frame", () => {
    const stderr = [
      "node:events:497",
      "Error: listen EADDRINUSE 127.0.0.1:9",
      "    at x (y:1:1)",
      "",
      "Node.js v22.1.0",
    ];
    expect(failureLine(stderr.join("\n"))).toBe("Error: listen EADDRINUSE 127.0.0.1:9");
    expect(failureLine("")).toBe("");
  });
});
