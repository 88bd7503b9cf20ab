import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CELL_TABLES,
  cellConfigFromEnv,
  cellTableNames,
  createCell,
  createDynamoDbLedgerStore,
  ensureCellTables,
} from "@cellwallet/cell-service";
import { serve } from "@hono/node-server";
import type { BenchWallet } from "./bench-types.js";
import { Books } from "./book.js";
import { CallTally, type CapacityModel, type IndexModel, instrumentClient } from "./dynamo-capacity.js";
import {
  BENCH_JWT_SECRET,
  createWallets,
  depositOp,
  newKey,
  seedWallets,
  send,
  tokenFor,
  transferOp,
  type Verification,
  verifyCell,
} from "./fixtures.js";
import { call, forEachLimited } from "./http.js";
import { prng } from "./scenarios.js";

export interface MeasuredKind {
  label: string;
  /** API operations measured. */
  operations: number;
  /** Of those, how many succeeded (2xx). */
  succeeded: number;
  tally: CallTally;
}

export interface InProcessReport {
  cellId: string;
  kinds: MeasuredKind[];
  verification: Verification;
  notes: string[];
}

/** The capacity model of a cell's tables: which tables have which secondary indexes. */
function capacityModel(cellId: string): CapacityModel {
  const names = cellTableNames(cellId);
  const indexes = new Map<string, IndexModel[]>();
  for (const definition of Object.values(CELL_TABLES)) {
    const tableKeys = [definition.partitionKey.name, ...(definition.sortKey ? [definition.sortKey.name] : [])];
    const models: IndexModel[] = definition.localSecondaryIndexes.map((index) => ({
      name: index.indexName,
      keys: [index.sortKey.name],
      global: false,
      ...(index.projection === "ALL" ? {} : { projected: [...tableKeys, index.sortKey.name] }),
    }));
    for (const index of definition.globalSecondaryIndexes ?? []) {
      const keys = [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])];
      models.push({
        name: index.indexName,
        keys,
        global: true,
        ...(index.projection === "ALL" ? {} : { projected: [...tableKeys, ...keys] }),
      });
    }
    indexes.set(names[definition.logicalName], models);
  }
  return { indexes };
}

/**
 * Serves a cell in this process on a DynamoDB store whose onCall hook (and an SDK
 * middleware that estimates capacity from item sizes) counts every DynamoDB
 * call, then runs operations one at a time so each call is attributed to the
 * API operation that made it; finally a concurrent burst of transfers shows
 * what contention (optimistic version checks) adds per transfer.
 */
/** One operation of each kind at a time (create, deposit, transfer, replay, GET), each with its own bucket. */
async function sampleEachOperation(ctx: {
  url: string;
  books: Books;
  operator: string;
  pick: () => BenchWallet;
  random: () => number;
  samples: number;
  measure: (label: string, work: () => Promise<number>) => Promise<void>;
}): Promise<void> {
  const { url, books, operator, pick, random, samples, measure } = ctx;
  for (let i = 0; i < samples; i++) {
    const userId = `inproc-extra-${i}`;
    await measure("create wallet", async () => {
      const res = await call(url, "POST", "/api/v1/wallets", {
        token: operator,
        body: JSON.stringify({ userId }),
        idempotencyKey: newKey("create"),
      });
      if (res.status === 201) books.addWallet(res.body.walletId);
      return res.status;
    });
  }
  const replays: ReturnType<typeof depositOp>[] = [];
  for (let i = 0; i < samples; i++) {
    const op = depositOp(pick(), operator, BigInt(1 + Math.floor(random() * 10_000)), "deposit");
    replays.push(op);
    await measure("deposit", () => send(url, books, op));
  }
  for (let i = 0; i < samples; i++) {
    const from = pick();
    let to = pick();
    while (to === from) to = pick();
    await measure("transfer", () => send(url, books, transferOp(from, to, BigInt(1 + Math.floor(random() * 500)))));
  }
  for (const op of replays) {
    await measure("deposit, replayed (same key)", async () => {
      const res = await call(url, "POST", op.path, { token: op.token, body: op.body, idempotencyKey: op.key });
      return res.headers.get("idempotency-replayed") === "true" ? res.status : 599;
    });
  }
  for (let i = 0; i < samples; i++) {
    const wallet = pick();
    await measure("GET wallet", async () => {
      return (await call(url, "GET", `/api/v1/wallets/${wallet.walletId}`, { token: wallet.token })).status;
    });
  }
}

export async function measureDynamoDbInProcess(options: {
  endpoint: string;
  samples: number;
  wallets: number;
  connections: number;
  seed: number;
}): Promise<InProcessReport> {
  const cellId = "bench-inprocess";
  let bucket: CallTally | undefined;
  const client = new DynamoDBClient({
    endpoint: options.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  instrumentClient(client, capacityModel(cellId), () => bucket);
  await ensureCellTables(client, cellId);
  const store = createDynamoDbLedgerStore({
    cellId,
    client,
    onCall: (operation, units) => bucket?.reported(operation, units),
  });
  const config = cellConfigFromEnv({
    CELL_ID: cellId,
    AZ: "az-1",
    LOG_LEVEL: "silent",
    WALLET_JWT_SECRET: BENCH_JWT_SECRET,
    WALLET_STORE: "dynamodb",
  });
  const cell = createCell(config, store);
  const server = serve({ fetch: cell.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const random = prng(options.seed + 1000);
  const books = new Books();
  const operator = await tokenFor("bench-operator", "wallet:operator");
  const kinds = new Map<string, MeasuredKind>();
  /** Runs `work` with its own bucket: every DynamoDB call meanwhile is attributed to `label`. */
  const measure = async (label: string, work: () => Promise<number>) => {
    let kind = kinds.get(label);
    if (!kind) {
      kind = { label, operations: 0, succeeded: 0, tally: new CallTally() };
      kinds.set(label, kind);
    }
    bucket = kind.tally;
    try {
      const status = await work();
      kind.operations += 1;
      if (status >= 200 && status < 300) kind.succeeded += 1;
    } finally {
      bucket = undefined;
    }
  };

  try {
    // Wallets for the concurrent burst; the first few are measured one by one.
    const wallets = await createWallets(url, books, operator, options.wallets, "inproc");
    await seedWallets(url, books, operator, wallets);
    const pick = () => wallets[Math.floor(random() * wallets.length)] ?? (wallets[0] as (typeof wallets)[0]);

    await sampleEachOperation({ url, books, operator, pick, random, samples: options.samples, measure });

    // Contention: many transfers at once over the same wallets (one shared bucket).
    const burst = Array.from({ length: options.connections * 5 }, () => {
      const from = pick();
      let to = pick();
      while (to === from) to = pick();
      return transferOp(from, to, BigInt(1 + Math.floor(random() * 500)));
    });
    const label = `transfer, ${options.connections} concurrent`;
    const burstKind: MeasuredKind = { label, operations: 0, succeeded: 0, tally: new CallTally() };
    kinds.set(label, burstKind);
    bucket = burstKind.tally;
    try {
      await forEachLimited(burst, options.connections, async (op) => {
        const status = await send(url, books, op);
        burstKind.operations += 1;
        if (status >= 200 && status < 300) burstKind.succeeded += 1;
      });
    } finally {
      bucket = undefined;
    }
    await books.resolveOpen(url);

    const verification = await verifyCell(
      url,
      books,
      operator,
      [...books.wallets.keys()].map((walletId) => ({ walletId, userId: "", token: operator })),
    );
    return { cellId, kinds: [...kinds.values()], verification, notes: [] };
  } finally {
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    client.destroy();
  }
}
