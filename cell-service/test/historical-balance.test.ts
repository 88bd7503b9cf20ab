/**
 * GET /wallets/{id}/balance/historical against a model built from the API's own
 * answers: a history with bursts of entries sharing one millisecond, queried at
 * and around every entry time, in several RFC 3339 spellings of each instant.
 */
import { randomUUID } from "node:crypto";
import { formatMinor, minorFromFormatted } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { ADAPTERS, openTestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";
import type { LedgerStore } from "../src/application/ledger-store.js";
import { type LedgerEntry, post } from "../src/domain/ledger-entry.js";

const motoEndpoint = inject("motoEndpoint");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();
const sorted = (o: object) => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

interface ModelEntry {
  createdAt: number;
  sequence: number;
  balanceAfter: string;
}

/** The same instant written with a UTC offset of `minutes` (e.g. 330 = +05:30, -480 = -08:00). */
function withOffset(ms: number, minutes: number, fraction?: string): string {
  const local = new Date(ms + minutes * 60_000).toISOString();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${local.slice(0, 23)}${fraction ?? ""}${offset}`;
}

/** An instant plus sub-millisecond digits: `.123` + `4567` reads as .1234567 s, truncated to .123. */
const subMillisecond = (ms: number, digits: string) => `${iso(ms).slice(0, 23)}${digits}Z`;

describe.each(ADAPTERS)("%s: historical balance against a model of the history", (adapter) => {
  let store: LedgerStore;
  let cell: InProcessCell;
  let owner: string;
  let walletId: string;
  let walletCreatedAt: number;
  const model: ModelEntry[] = [];
  let balance = 0n;

  const deposit = async (amount: string) => {
    const res = await http(cell.url, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: owner,
      body: { amount },
      idempotencyKey: randomUUID(),
    });
    if (res.status !== 201) throw new Error(`deposit ${res.status} ${res.text}`);
    return res.body;
  };

  const withdraw = async (amount: string) => {
    const res = await http(cell.url, "POST", `/api/v1/wallets/${walletId}/withdraw`, {
      token: owner,
      body: { amount },
    });
    if (res.status !== 201) throw new Error(`withdraw ${res.status} ${res.text}`);
    return res.body;
  };

  const record = (body: { createdAt: string; sequence: number; balanceAfter: string }) =>
    model.push({ createdAt: Date.parse(body.createdAt), sequence: body.sequence, balanceAfter: body.balanceAfter });

  /**
   * Deposits through the store port with one pinned clock reading, as a group
   * commit does: on DynamoDB (moto answers in more than 1 ms) the API alone
   * rarely puts two entries of a wallet in one millisecond.
   */
  const pinnedBurst = async (count: number) => {
    const pinned = Date.now();
    for (let i = 0; i < count; i++) {
      const outcome = await store.commit<LedgerEntry>({
        walletIds: [walletId],
        decide: ({ wallets }) => {
          const wallet = wallets.get(walletId);
          if (!wallet) throw new Error("wallet vanished");
          const posted = post(
            wallet,
            { transactionId: randomUUID(), type: "DEPOSIT", amount: 100n + BigInt(i), context: { principal: "test" } },
            pinned,
          );
          if (!posted.ok) throw new Error(posted.problem.detail);
          return {
            changes: {
              walletUpdates: [{ wallet: posted.value.wallet, expectedVersion: wallet.version }],
              entries: [posted.value.entry],
            },
            result: posted.value.entry,
          };
        },
      });
      if (!outcome.ok) throw new Error(outcome.reason);
      const entry = outcome.result;
      balance += entry.amount;
      model.push({
        createdAt: entry.createdAt,
        sequence: entry.sequence,
        balanceAfter: formatMinor(entry.balanceAfter, "USD"),
      });
    }
  };

  /** The model's answer: balanceAfter of the highest sequence with createdAt <= at. */
  const expected = (atMs: number) => {
    let best: ModelEntry | undefined;
    for (const e of model) if (e.createdAt <= atMs && (!best || e.sequence > best.sequence)) best = e;
    return { balance: best?.balanceAfter ?? "0.00", sequence: best?.sequence ?? 0 };
  };

  const historical = (timestamp: string) =>
    http(cell.url, "GET", `/api/v1/wallets/${walletId}/balance/historical?timestamp=${encodeURIComponent(timestamp)}`, {
      token: owner,
    });

  /** Asks for every (spelling, instant) pair, 8 at a time, and returns the mismatches. */
  async function check(queries: { text: string; atMs: number }[]): Promise<string[]> {
    const wrong: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let q = queries[next++]; q !== undefined; q = queries[next++]) {
        const res = await historical(q.text);
        const want = { walletId, currency: "USD", ...expected(q.atMs), timestamp: iso(q.atMs) };
        if (res.status !== 200 || sorted(res.body) !== sorted(want)) {
          wrong.push(`${q.text}: got ${res.status} ${res.text}, want ${JSON.stringify(want)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return wrong;
  }

  beforeAll(async () => {
    store = (await openTestStore(adapter, motoEndpoint)).store;
    cell = await startInProcessCell(store);
    const userId = `hist-${randomUUID().slice(0, 8)}`;
    owner = await token(userId);
    const created = await http(cell.url, "POST", "/api/v1/wallets", { token: owner, body: { userId } });
    if (created.status !== 201) throw new Error(`create wallet ${created.status} ${created.text}`);
    walletId = created.body.walletId;
    walletCreatedAt = Date.parse(created.body.createdAt);
    await sleep(3);
    // 14 rounds: single deposits and withdrawals with gaps, and bursts of parallel deposits.
    for (let round = 0; round < 14; round++) {
      if (round % 3 === 1) {
        const burst = await Promise.all(
          Array.from({ length: 6 }, (_, i) => deposit(`${round + 1}.${String(i + 1).padStart(2, "0")}`)),
        );
        for (const body of burst) {
          balance += minorFromFormatted(body.amount, "USD");
          record(body);
        }
      } else if (round % 3 === 2 && balance > 500n) {
        const body = await withdraw(formatMinor(balance / 3n, "USD"));
        balance -= minorFromFormatted(body.amount, "USD");
        record(body);
      } else {
        const body = await deposit(`${round * 7 + 3}.25`);
        balance += minorFromFormatted(body.amount, "USD");
        record(body);
      }
      if (round === 8) await pinnedBurst(4);
      await sleep(round % 2 === 0 ? 4 : 1);
    }
    model.sort((a, b) => a.sequence - b.sequence);
  }, 60_000);

  afterAll(async () => {
    await cell?.close();
    await store?.close();
  });

  it("the model is the ledger: sequences 1..n, createdAt never decreases as sequence grows", async () => {
    expect(model.map((e) => e.sequence)).toEqual(Array.from({ length: model.length }, (_, i) => i + 1));
    for (let i = 1; i < model.length; i++) {
      expect(model[i]?.createdAt, `createdAt of sequence ${i + 1}`).toBeGreaterThanOrEqual(
        model[i - 1]?.createdAt ?? 0,
      );
    }
    expect(model[0]?.createdAt).toBeGreaterThan(walletCreatedAt);
    expect(model.at(-1)?.balanceAfter).toBe(formatMinor(balance, "USD"));
    // The listing agrees with what the writes answered.
    const listed = await http(cell.url, "GET", `/api/v1/wallets/${walletId}/transactions?limit=200`, { token: owner });
    const fromList = (listed.body.items as { createdAt: string; sequence: number; balanceAfter: string }[])
      .map((e) => ({ createdAt: Date.parse(e.createdAt), sequence: e.sequence, balanceAfter: e.balanceAfter }))
      .sort((a, b) => a.sequence - b.sequence);
    expect(fromList).toEqual(model);
  });

  it("the history has bursts: several entries share one createdAt millisecond", () => {
    const perMs = new Map<number, number>();
    for (const e of model) perMs.set(e.createdAt, (perMs.get(e.createdAt) ?? 0) + 1);
    const shared = [...perMs.values()].filter((n) => n > 1);
    // SQLite group-commits a burst in one transaction; DynamoDB writers race, and often land in one ms too.
    if (adapter === "sqlite") expect(shared.length).toBeGreaterThanOrEqual(3);
    expect(perMs.size).toBeGreaterThan(5);
  });

  it("before the first entry: 0.00 at sequence 0", async () => {
    const first = model[0]?.createdAt ?? 0;
    const wrong = await check([
      { text: iso(first - 1), atMs: first - 1 },
      { text: iso(walletCreatedAt), atMs: walletCreatedAt },
      { text: "2001-02-03T04:05:06Z", atMs: Date.parse("2001-02-03T04:05:06Z") },
      { text: "1970-01-01T00:00:00.000Z", atMs: 0 },
      { text: "1969-12-31T23:59:59.999Z", atMs: -1 },
      { text: "0001-01-01T00:00:00Z", atMs: Date.parse("0001-01-01T00:00:00Z") },
    ]);
    expect(wrong).toEqual([]);
    const res = await historical(iso(first - 1));
    expect(res.body).toEqual({ walletId, currency: "USD", balance: "0.00", timestamp: iso(first - 1), sequence: 0 });
  });

  it("exactly at, 1 ms before and 1 ms after every entry: the highest sequence at or before", async () => {
    const queries = [...new Set(model.map((e) => e.createdAt))].flatMap((t) => [
      { text: iso(t), atMs: t },
      { text: iso(t - 1), atMs: t - 1 },
      { text: iso(t + 1), atMs: t + 1 },
    ]);
    expect(await check(queries)).toEqual([]);
    // Spot check: at a burst's millisecond the answer is the last entry of the burst.
    const burstMs = model.find((e, i) => model[i + 1]?.createdAt === e.createdAt)?.createdAt;
    if (burstMs !== undefined) {
      const last = model.filter((e) => e.createdAt === burstMs).at(-1);
      const res = await historical(iso(burstMs));
      expect(res.body.sequence).toBe(last?.sequence);
      expect(res.body.balance).toBe(last?.balanceAfter);
    }
  });

  it("between entries and after the last one", async () => {
    const times = model.map((e) => e.createdAt);
    const queries: { text: string; atMs: number }[] = [];
    for (let i = 1; i < times.length; i++) {
      const a = times[i - 1] ?? 0;
      const b = times[i] ?? 0;
      if (b - a >= 2) {
        const mid = Math.floor((a + b) / 2);
        queries.push({ text: iso(mid), atMs: mid });
      }
    }
    const last = times.at(-1) ?? 0;
    const now = Date.now();
    queries.push({ text: iso(last + 2), atMs: last + 2 }, { text: iso(now - 1), atMs: now - 1 });
    expect(queries.length).toBeGreaterThan(5);
    expect(await check(queries)).toEqual([]);
  });

  it("the same instants with +05:30, -08:00 and other offsets give the same answers, in Z", async () => {
    const queries = [...new Set(model.map((e) => e.createdAt))].flatMap((t) => [
      { text: withOffset(t, 330), atMs: t },
      { text: withOffset(t, -480), atMs: t },
      { text: withOffset(t - 1, 345), atMs: t - 1 },
      { text: withOffset(t + 1, -210), atMs: t + 1 },
      { text: withOffset(t, 0).replace("+00:00", "-00:00"), atMs: t },
      { text: withOffset(t, 60).replace("T", "t"), atMs: t },
    ]);
    expect(await check(queries)).toEqual([]);
    const t = model[2]?.createdAt ?? 0;
    const res = await historical(withOffset(t, 330));
    expect(res.body.timestamp).toBe(iso(t));
    expect(res.body.timestamp.endsWith("Z")).toBe(true);
  });

  it("sub-millisecond fractions are truncated: .1234567 is in millisecond .123", async () => {
    const queries = [...new Set(model.map((e) => e.createdAt))].flatMap((t) => [
      { text: subMillisecond(t, "4567"), atMs: t },
      { text: subMillisecond(t, "0000001"), atMs: t },
      // The very end of the previous millisecond still excludes the entries of this one.
      { text: subMillisecond(t - 1, "999999"), atMs: t - 1 },
      { text: withOffset(t, 330, "9"), atMs: t },
    ]);
    expect(await check(queries)).toEqual([]);
  });

  it("answers for past instants never change when more entries are written later", async () => {
    const instants = [...new Set(model.map((e) => e.createdAt))].flatMap((t) => [t - 1, t, t + 1]);
    const before = await Promise.all(instants.map((t) => historical(iso(t)).then((r) => r.text)));
    const burst = await Promise.all(Array.from({ length: 4 }, () => deposit("0.99")));
    for (const body of burst) expect(Date.parse(body.createdAt)).toBeGreaterThan(model.at(-1)?.createdAt ?? 0);
    const after = await Promise.all(instants.map((t) => historical(iso(t)).then((r) => r.text)));
    expect(after).toEqual(before);
    // ...and the new entries are visible from their own time on.
    const newest = burst.reduce((a, b) => (a.sequence > b.sequence ? a : b));
    const res = await historical(newest.createdAt);
    expect(res.body).toMatchObject({ sequence: newest.sequence, balance: newest.balanceAfter });
  });

  it("an instant in the future is 422 timestamp-in-future; a malformed one is 400", async () => {
    for (const later of [iso(Date.now() + 3_600_000), withOffset(Date.now() + 60_000, 330), "9999-12-31T23:59:59Z"]) {
      const future = await historical(later);
      expect(future.status, later).toBe(422);
      expect(future.body.code).toBe("timestamp-in-future");
    }
    for (const bad of ["2024-13-01T00:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00", "yesterday"]) {
      const res = await historical(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.code, bad).toBe("validation-error");
    }
  });
});
