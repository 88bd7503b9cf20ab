import { randomUUID } from "node:crypto";

/** The steps of the customer journey a canary runs in one cell, in order. */
export const CANARY_STEPS = [
  "create-wallets",
  "deposit",
  "transfer",
  "history",
  "historical-balance",
  "audit",
] as const;
export type CanaryStep = (typeof CANARY_STEPS)[number];

/** A cell's two canary users: money only ever moves into the first and from the first to the second. */
export function canaryUsers(cellId: string): [string, string] {
  return [`canary-${cellId}-a`, `canary-${cellId}-b`];
}

/** Tiny amounts: one cent deposited into the first canary, one cent moved to the second, per journey. */
export const CANARY_AMOUNT = "0.01";

export interface CanaryTokens {
  /** A token per canary user (scope wallet: its own wallet only). */
  user(userId: string): Promise<string>;
  /** A wallet:auditor token (the journey's audit step). */
  auditor(): Promise<string>;
}

export interface StepResult {
  step: CanaryStep;
  ok: boolean;
  seconds: number;
  detail?: string;
}

export interface JourneyResult {
  cellId: string;
  ok: boolean;
  seconds: number;
  steps: StepResult[];
  /** The first failed step's reason. */
  failure?: string;
}

class StepFailed extends Error {}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the public API, checked field by field
  body: any;
}

async function call(routerUrl: string, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, "user-agent": "cellwallet-canary" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    // Retries (by the router, or a journey repeated) never apply a canary operation twice.
    if (method === "POST") headers["idempotency-key"] = `canary-${randomUUID()}`;
  }
  const url = new URL(path, routerUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (error) {
    // fetch says only "fetch failed": name the router that was tried (a default of 8080 may be the wrong
    // platform's, or none) and the reason it gives in its cause (ECONNREFUSED, a timeout).
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    const reason = `${(error as Error).message}${cause ? ` (${cause})` : ""}`;
    throw new StepFailed(`${method} ${url.origin}${url.pathname}: ${reason}`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed };
}

function expectStatus(answer: Answer, wanted: number[], what: string): void {
  if (!wanted.includes(answer.status)) {
    throw new StepFailed(`${what}: HTTP ${answer.status} ${answer.body?.code ?? ""}`.trim());
  }
}

/**
 * One journey through the public API (the router), as a customer of `cellId` would: both canary wallets exist
 * (created on the first run), a deposit, a same-cell transfer to the second canary, the history shows the
 * deposit, the historical balance answers, and the wallet's chain verifies. Every step is timed; the first
 * failure ends the journey.
 */
export async function runJourney(routerUrl: string, cellId: string, tokens: CanaryTokens): Promise<JourneyResult> {
  const [a, b] = canaryUsers(cellId);
  const steps: StepResult[] = [];
  const started = performance.now();
  const wallets: Record<string, string> = {};
  let depositId = "";
  const step = async (name: CanaryStep, run: () => Promise<void>) => {
    const t0 = performance.now();
    try {
      await run();
      steps.push({ step: name, ok: true, seconds: (performance.now() - t0) / 1000 });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      steps.push({ step: name, ok: false, seconds: (performance.now() - t0) / 1000, detail });
      throw new StepFailed(`${name}: ${detail}`);
    }
  };
  try {
    await step("create-wallets", async () => {
      for (const user of [a, b]) {
        const created = await call(routerUrl, "POST", "/api/v1/wallets", await tokens.user(user), { userId: user });
        expectStatus(created, [201, 409], `wallet of ${user}`);
        const walletId = created.body?.walletId;
        if (typeof walletId !== "string") throw new StepFailed(`wallet of ${user}: no walletId in the answer`);
        // The wallet id names its cell: a canary placed elsewhere does not test this cell.
        if (!walletId.endsWith(`-${cellId}`))
          throw new StepFailed(`wallet of ${user} is ${walletId}, not in ${cellId}`);
        wallets[user] = walletId;
      }
    });
    await step("deposit", async () => {
      const path = `/api/v1/wallets/${wallets[a]}/deposit`;
      const deposit = await call(routerUrl, "POST", path, await tokens.user(a), {
        amount: CANARY_AMOUNT,
        reference: "canary",
      });
      expectStatus(deposit, [201], "deposit");
      depositId = String(deposit.body?.transactionId ?? "");
    });
    await step("transfer", async () => {
      const transfer = await call(routerUrl, "POST", "/api/v1/wallets/transfer", await tokens.user(a), {
        fromWalletId: wallets[a],
        toWalletId: wallets[b],
        amount: CANARY_AMOUNT,
        reference: "canary",
      });
      expectStatus(transfer, [201], "transfer");
      if (transfer.body?.status !== "COMPLETED") throw new StepFailed(`transfer is ${transfer.body?.status}`);
    });
    await step("history", async () => {
      const page = await call(
        routerUrl,
        "GET",
        `/api/v1/wallets/${wallets[a]}/transactions?limit=5`,
        await tokens.user(a),
      );
      expectStatus(page, [200], "history");
      const ids = (page.body?.items ?? []).map((t: { transactionId?: string }) => t.transactionId);
      if (!ids.includes(depositId)) throw new StepFailed("the deposit is not in the latest history page");
    });
    await step("historical-balance", async () => {
      const at = encodeURIComponent(new Date(Date.now() - 1000).toISOString());
      const path = `/api/v1/wallets/${wallets[a]}/balance/historical?timestamp=${at}`;
      const balance = await call(routerUrl, "GET", path, await tokens.user(a));
      expectStatus(balance, [200], "historical balance");
    });
    await step("audit", async () => {
      const audit = await call(routerUrl, "GET", `/api/v1/wallets/${wallets[a]}/audit`, await tokens.auditor());
      expectStatus(audit, [200], "audit");
      if (audit.body?.valid !== true) throw new StepFailed("the canary wallet's chain does not verify");
    });
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
    return { cellId, ok: false, seconds: (performance.now() - started) / 1000, steps, failure: error.message };
  }
  return { cellId, ok: true, seconds: (performance.now() - started) / 1000, steps };
}
