/**
 * `npm run bench:verify`: measures whole-cell verification (verifyCell) on a cell
 * seeded with N entries. A benchmark, not a test: `npm test` does not run it.
 *
 *   npm run bench:verify                                   # SQLite, 1,000 wallets x 100 entries
 *   npm run bench:verify -- --wallets 200 --per-wallet 50  # smaller
 *   npm run bench:verify -- --adapter dynamodb --endpoint http://127.0.0.1:5000 --wallets 100 --per-wallet 20
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { monotonicFactory } from "ulid";
import { createDynamoDbClient, createDynamoDbLedgerStore } from "../adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "../adapters/dynamodb/ensure-tables.js";
import { SqliteLedgerStore } from "../adapters/sqlite/sqlite-ledger-store.js";
import { verifyCell } from "../application/cell-verification.js";
import type { LedgerStore } from "../application/ledger-store.js";
import { post } from "../domain/ledger-entry.js";
import { openWallet } from "../domain/wallet.js";

const { values } = parseArgs({
  options: {
    adapter: { type: "string", default: "sqlite" },
    endpoint: { type: "string" },
    wallets: { type: "string", default: "1000" },
    "per-wallet": { type: "string", default: "100" },
    concurrency: { type: "string", default: "8" },
  },
});
const walletCount = Number(values.wallets);
const perWallet = Number(values["per-wallet"]);
const concurrency = Number(values.concurrency);
const ulid = monotonicFactory();
const context = { principal: "bench", scopes: ["wallet:operator"], requestId: "bench" };

async function open(): Promise<{ store: LedgerStore; cellId: string; cleanup(): void }> {
  const cellId = `bench-${Date.now().toString(36)}`;
  if (values.adapter === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "cellwallet-bench-verify-"));
    return {
      store: new SqliteLedgerStore({ path: join(dir, "ledger.sqlite") }),
      cellId,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!values.endpoint) throw new Error("--adapter dynamodb needs --endpoint (moto or DynamoDB Local)");
  const client = createDynamoDbClient({ endpoint: values.endpoint });
  await ensureCellTables(client, cellId);
  return { store: createDynamoDbLedgerStore({ cellId, client }), cellId, cleanup: () => client.destroy() };
}

async function seed(store: LedgerStore): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < walletCount; i++) {
    const wallet = openWallet(ulid(), `bench-${i}`, "USD", Date.now());
    await store.commit({ walletIds: [], decide: () => ({ changes: { newWallet: wallet }, result: null }) });
    ids.push(wallet.walletId);
  }
  // SQLite: everything in flight at once (group commit); emulators choke on hundreds of connections.
  const inFlight = values.adapter === "sqlite" ? ids.length : 8;
  for (let round = 0; round < perWallet; round++) {
    for (let i = 0; i < ids.length; i += inFlight) await seedRound(store, ids.slice(i, i + inFlight), round);
  }
}

async function seedRound(store: LedgerStore, ids: string[], round: number): Promise<void> {
  // One entry per wallet per round.
  await Promise.all(
    ids.map((walletId) =>
      store.commit({
        walletIds: [walletId],
        decide: ({ wallets, now }) => {
          const current = wallets.get(walletId);
          if (!current) throw new Error("wallet missing");
          const posted = post(
            current,
            { transactionId: ulid(), type: "DEPOSIT", amount: BigInt(100 + round), context },
            now,
          );
          if (!posted.ok) throw new Error("refused");
          return {
            changes: {
              walletUpdates: [{ wallet: posted.value.wallet, expectedVersion: current.version }],
              entries: [posted.value.entry],
            },
            result: null,
          };
        },
      }),
    ),
  );
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `adapter ${values.adapter}: ${walletCount} wallets x ${perWallet} entries = ${walletCount * perWallet} entries, concurrency ${concurrency}`,
  );
  const { store, cellId, cleanup } = await open();
  try {
    const seedStart = performance.now();
    await seed(store);
    console.log(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    global.gc?.();
    const baseline = process.memoryUsage();
    let peakHeap = baseline.heapUsed;
    let peakRss = baseline.rss;
    const sample = () => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    };
    // SQLite reads are synchronous (timers would not fire): sample every 1,000 entries read instead.
    let read = 0;
    const sampled = new Proxy(store, {
      get(target, property) {
        if (property === "streamEntries") {
          return async function* (walletId: string) {
            for await (const entry of target.streamEntries(walletId)) {
              if (++read % 1000 === 0) sample();
              yield entry;
            }
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const started = performance.now();
    const report = await verifyCell(sampled, cellId, { concurrency });
    const seconds = (performance.now() - started) / 1000;
    sample();
    console.log(
      `verified ${report.wallets} wallets / ${report.entries} entries in ${seconds.toFixed(2)} s ` +
        `(${Math.round(report.entries / seconds)} entries/s), valid=${report.valid}`,
    );
    console.log(
      `heap before ${mb(baseline.heapUsed)} MB, peak ${mb(peakHeap)} MB (+${mb(peakHeap - baseline.heapUsed)} MB); ` +
        `rss before ${mb(baseline.rss)} MB, peak ${mb(peakRss)} MB`,
    );
    if (!report.valid || report.entries !== walletCount * perWallet) process.exitCode = 1;
  } finally {
    await store.close();
    cleanup();
  }
}

await main();
