import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { HUGE_HEADERS, NOT_HTTP, rawHttp } from "../../test-support/raw-http.js";
import { token } from "../../test-support/tokens.js";
import { freeLayout } from "./platform.js";

const root = new URL("../../", import.meta.url).pathname;

/** README command one, as a user runs it: `node control-plane/dist/local/start-local.js` (what `npm start` runs). */
function startLocal(env: Record<string, string>): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(process.execPath, [join(root, "control-plane/dist/local/start-local.js")], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Press Ctrl-C to stop.")) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, ready };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code)),
  );

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return false;
  } catch {
    return true;
  }
}

describe("the local platform as a process", () => {
  it("starts 2 cells x 3 AZs and routers, keeps data across restarts, and stops cleanly on Ctrl-C", async () => {
    const base = await freeLayout(2, 3);
    const env = {
      WALLET_DATA_DIR: mkdtempSync(join(tmpdir(), "cellwallet-local-")),
      ROUTER_PORT: String(base),
      LOCAL_CELL_BASE_PORT: String(base + 10),
    };
    const api = `http://127.0.0.1:${base}`;
    const alice = await token("alice");

    const first = startLocal(env);
    const banner = await first.ready;
    expect(banner).toContain("2 cells x 3 AZs");
    expect(banner).toContain(`http://localhost:${base}/api/v1`);
    expect(banner).toContain("npx cellctl token --sub alice");
    // What to open next (issue #13: "after npm start there is nothing to open").
    expect(banner).toContain("npm run observe");
    const created = await http(api, "POST", "/api/v1/wallets", { token: alice, body: { userId: "alice" } });
    expect(created.status).toBe(201);
    const walletId = created.body.walletId as string;
    expect(
      (await http(api, "POST", `/api/v1/wallets/${walletId}/deposit`, { token: alice, body: { amount: "42.00" } }))
        .status,
    ).toBe(201);
    // All three AZ routers serve the same platform.
    expect(
      (await http(`http://127.0.0.1:${base + 2}`, "GET", `/api/v1/wallets/${walletId}`, { token: alice })).body.balance,
    ).toBe("42.00");
    // What the HTTP parser refuses is a problem too, at the router and at a cell replica.
    for (const port of [base, base + 10]) {
      const notHttp = await rawHttp(port, NOT_HTTP);
      expect([notHttp.status, notHttp.headers["content-type"]]).toEqual([400, "application/problem+json"]);
      expect(JSON.parse(notHttp.body).code).toBe("malformed-request");
      const huge = await rawHttp(port, HUGE_HEADERS);
      expect([huge.status, JSON.parse(huge.body).code]).toEqual([431, "headers-too-large"]);
    }

    first.child.kill("SIGINT");
    expect(await exited(first.child)).toBe(0);
    const ports = [base, base + 1, base + 2, base + 10, base + 11, base + 12, base + 20, base + 21, base + 22];
    for (const port of ports) expect(await refused(`http://127.0.0.1:${port}/health`)).toBe(true);

    const second = startLocal(env);
    await second.ready;
    const again = await http(api, "GET", `/api/v1/wallets/${walletId}`, { token: alice });
    expect(again.body).toMatchObject({ balance: "42.00", version: 1 });
    second.child.kill("SIGTERM");
    expect(await exited(second.child)).toBe(0);
  }, 120_000);
});
