import { randomUUID } from "node:crypto";
import { DeadlineExceededError, ProblemError } from "./errors.js";
import { type Answer, type CallOptions, call, type Request, type RetryPolicy, type TransportOptions } from "./http.js";
import type {
  CreateWalletRequest,
  HistoricalBalance,
  ListTransactionsQuery,
  MoneyRequest,
  Transaction,
  TransactionPage,
  Transfer,
  TransferRequest,
  Wallet,
  WalletAudit,
} from "./types.js";
import { verifyEntries, type WalletChainVerification } from "./verify-chain.js";

export interface ClientOptions {
  /** The router (or a cell), e.g. http://localhost:8080. */
  baseUrl: string;
  token: TransportOptions["token"];
  /** Default deadline of one call, retries included (default 30 s). */
  deadlineMs?: number;
  /** Longest single attempt (default 10 s). */
  attemptTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Defaults to the global fetch (Node 20+). */
  fetch?: typeof fetch;
  random?: () => number;
}

/** Options of a state-changing call. */
export interface WriteOptions extends CallOptions {
  /**
   * The Idempotency-Key of this logical operation (default: a new random one per call). Every retry of the
   * call sends the same key; pass your own to make a retry after a crash or a DeadlineExceededError safe too.
   */
  idempotencyKey?: string;
}

export interface WaitOptions extends CallOptions {
  /** First poll interval (default 200 ms); it doubles up to maxPollIntervalMs (default 2 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
}

/** What a write answered, with how it was answered. */
export interface Written<T> {
  value: T;
  status: number;
  /** The stored answer of an earlier attempt with this key (a retry of something already applied). */
  replayed: boolean;
  idempotencyKey: string;
  attempts: number;
}

const API = "/api/v1";
const enc = encodeURIComponent;

/**
 * A typed client of the Cellwallet public API. Every POST carries an Idempotency-Key, generated per logical
 * operation and reused on every retry; retries (jittered backoff) happen only where they are safe: 503 and 429
 * with Retry-After, 409 idempotency-in-progress, and connection failures of GETs and keyed POSTs. Each call
 * has a deadline. Refusals are thrown as ProblemError carrying the problem `code`.
 */
export class CellwalletClient {
  private readonly transport: TransportOptions;

  constructor(options: ClientOptions) {
    this.transport = {
      baseUrl: options.baseUrl,
      token: options.token,
      deadlineMs: options.deadlineMs ?? 30_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
      retry: { baseDelayMs: 100, maxDelayMs: 2_000, ...options.retry },
      fetch: options.fetch ?? globalThis.fetch,
      random: options.random ?? Math.random,
      userAgent: "cellwallet-client/0.1.0",
    };
  }

  private get<T>(path: string, query?: Request["query"], options?: CallOptions): Promise<T> {
    return call<T>(this.transport, { method: "GET", path, ...(query ? { query } : {}) }, options).then((a) => a.body);
  }

  private async post<T>(path: string, body: unknown, options: WriteOptions = {}): Promise<Written<T>> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const answer: Answer<T> = await call<T>(this.transport, { method: "POST", path, body, idempotencyKey }, options);
    const { status, replayed, attempts } = answer;
    return { value: answer.body, status, replayed, idempotencyKey, attempts };
  }

  // --- Wallets ---

  /** Creates the user's wallet (one per user); 409 wallet-already-exists is a ProblemError (see getOrCreateWallet). */
  async createWallet(request: CreateWalletRequest, options?: WriteOptions): Promise<Wallet> {
    return (await this.createWalletWritten(request, options)).value;
  }

  createWalletWritten(request: CreateWalletRequest, options?: WriteOptions): Promise<Written<Wallet>> {
    return this.post<Wallet>(`${API}/wallets`, request, options);
  }

  /** The user's wallet, created when it does not exist yet. */
  async getOrCreateWallet(request: CreateWalletRequest, options?: WriteOptions): Promise<Wallet> {
    try {
      return await this.createWallet(request, options);
    } catch (error) {
      const existing = error instanceof ProblemError && error.code === "wallet-already-exists";
      const walletId = existing ? (error.problem as { walletId?: unknown }).walletId : undefined;
      if (typeof walletId !== "string") throw error;
      return this.getWallet(walletId, options);
    }
  }

  getWallet(walletId: string, options?: CallOptions): Promise<Wallet> {
    return this.get<Wallet>(`${API}/wallets/${enc(walletId)}`, undefined, options);
  }

  /** The user's wallet, or undefined when they have none. */
  async findWallet(userId: string, options?: CallOptions): Promise<Wallet | undefined> {
    return (await this.get<{ items: Wallet[] }>(`${API}/wallets`, { userId }, options)).items[0];
  }

  // --- Money ---

  async deposit(walletId: string, request: MoneyRequest, options?: WriteOptions): Promise<Transaction> {
    return (await this.depositWritten(walletId, request, options)).value;
  }

  depositWritten(walletId: string, request: MoneyRequest, options?: WriteOptions): Promise<Written<Transaction>> {
    return this.post<Transaction>(`${API}/wallets/${enc(walletId)}/deposit`, request, options);
  }

  async withdraw(walletId: string, request: MoneyRequest, options?: WriteOptions): Promise<Transaction> {
    return (await this.withdrawWritten(walletId, request, options)).value;
  }

  withdrawWritten(walletId: string, request: MoneyRequest, options?: WriteOptions): Promise<Written<Transaction>> {
    return this.post<Transaction>(`${API}/wallets/${enc(walletId)}/withdraw`, request, options);
  }

  /**
   * Starts a transfer: COMPLETED (201), or PENDING (202) while a cross-cell credit is unconfirmed — then
   * waitForTransfer gives the outcome. A replay with the same key answers what the first answer was.
   */
  async transfer(request: TransferRequest, options?: WriteOptions): Promise<Transfer> {
    return (await this.transferWritten(request, options)).value;
  }

  transferWritten(request: TransferRequest, options?: WriteOptions): Promise<Written<Transfer>> {
    return this.post<Transfer>(`${API}/wallets/transfer`, request, options);
  }

  /** A transfer, waited for until it is COMPLETED or FAILED. */
  async transferAndWait(request: TransferRequest, options?: WriteOptions & WaitOptions): Promise<Transfer> {
    const started = await this.transfer(request, options);
    return started.status === "PENDING" ? this.waitForTransfer(started.transferId, options) : started;
  }

  getTransfer(transferId: string, options?: CallOptions): Promise<Transfer> {
    return this.get<Transfer>(`${API}/transfers/${enc(transferId)}`, undefined, options);
  }

  /** Polls a transfer until it is final (COMPLETED or FAILED) or the deadline passes (DeadlineExceededError). */
  async waitForTransfer(transferId: string, options: WaitOptions = {}): Promise<Transfer> {
    const deadline = Date.now() + (options.deadlineMs ?? this.transport.deadlineMs);
    let interval = options.pollIntervalMs ?? 200;
    const maxInterval = options.maxPollIntervalMs ?? 2_000;
    for (;;) {
      const left = deadline - Date.now();
      const transfer = await this.getTransfer(transferId, { ...options, deadlineMs: Math.max(1, left) });
      if (transfer.status !== "PENDING") return transfer;
      if (Date.now() + interval >= deadline) {
        throw new DeadlineExceededError(`transfer ${transferId} is still PENDING at the deadline`, undefined, transfer);
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
      interval = Math.min(maxInterval, interval * 2);
    }
  }

  // --- History and audit ---

  listTransactions(
    walletId: string,
    query: ListTransactionsQuery = {},
    options?: CallOptions,
  ): Promise<TransactionPage> {
    return this.get<TransactionPage>(`${API}/wallets/${enc(walletId)}/transactions`, { ...query }, options);
  }

  /** Every entry of a wallet (within from/to when given), newest first, page by page. */
  async *transactions(
    walletId: string,
    query: Omit<ListTransactionsQuery, "cursor"> = {},
    options?: CallOptions,
  ): AsyncGenerator<Transaction> {
    let cursor: string | undefined;
    do {
      const page = await this.listTransactions(
        walletId,
        { limit: "200", ...query, ...(cursor ? { cursor } : {}) },
        options,
      );
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  getTransaction(walletId: string, transactionId: string, options?: CallOptions): Promise<Transaction> {
    return this.get<Transaction>(
      `${API}/wallets/${enc(walletId)}/transactions/${enc(transactionId)}`,
      undefined,
      options,
    );
  }

  /** The balance after the last entry at or before `at`. */
  historicalBalance(walletId: string, at: Date | string, options?: CallOptions): Promise<HistoricalBalance> {
    const timestamp = at instanceof Date ? at.toISOString() : at;
    return this.get<HistoricalBalance>(`${API}/wallets/${enc(walletId)}/balance/historical`, { timestamp }, options);
  }

  /** The server's own verification of the wallet's chain. */
  audit(walletId: string, options?: CallOptions): Promise<WalletAudit> {
    return this.get<WalletAudit>(`${API}/wallets/${enc(walletId)}/audit`, undefined, options);
  }

  /**
   * Verifies the wallet's hash chain here, from its public transaction pages, trusting nothing the server
   * computed: every hash is recomputed, every link and running balance checked, and the chain must end at the
   * wallet's balance and version as read before the pages.
   */
  async verifyWalletChain(walletId: string, options?: CallOptions): Promise<WalletChainVerification> {
    const wallet = await this.getWallet(walletId, options);
    const entries: Transaction[] = [];
    for await (const entry of this.transactions(walletId, {}, options)) entries.push(entry);
    return verifyEntries(wallet, entries);
  }
}
