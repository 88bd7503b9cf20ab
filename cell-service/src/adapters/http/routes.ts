import { createRoute, z } from "@hono/zod-openapi";
import * as s from "./schemas.js";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const problem = (description: string) => ({
  content: { "application/problem+json": { schema: s.Problem } },
  description,
});

const IdempotencyHeaders = z.object({
  "Idempotency-Key": z.string().optional().openapi({
    description: "1..255 printable ASCII; the same key and request replay the stored outcome.",
  }),
});

const common = {
  400: problem("validation-error, malformed-json or invalid-amount"),
  401: problem("unauthenticated"),
  403: problem("forbidden"),
  429: problem("rate-limited"),
  503: problem("cell-unavailable"),
};
const post = {
  ...common,
  409: problem("idempotency-in-progress (or wallet-already-exists on create)"),
  413: problem("payload-too-large"),
  415: problem("unsupported-media-type"),
  422: problem("business refusal or idempotency-key-reused"),
};
const security = [{ bearerAuth: [] }];

export const createWalletRoute = createRoute({
  method: "post",
  path: "/api/v1/wallets",
  summary: "Create the user's wallet (one per user)",
  security,
  request: { headers: IdempotencyHeaders, body: { content: { "application/json": { schema: s.CreateWalletBody } } } },
  responses: { 201: json(s.Wallet, "Created; Location names the wallet"), ...post },
});

export const findWalletsRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets",
  summary: "Find a user's wallet",
  security,
  request: { query: s.UserQuery },
  responses: { 200: json(s.WalletList, "The user's wallets (empty when none)"), ...common },
});

export const getWalletRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}",
  summary: "Get a wallet and its balance",
  security,
  request: { params: s.WalletIdParam },
  responses: { 200: json(s.Wallet, "The wallet"), 404: problem("wallet-not-found"), ...common },
});

const moneyRoute = (kind: "deposit" | "withdraw") =>
  createRoute({
    method: "post",
    path: `/api/v1/wallets/{walletId}/${kind}`,
    summary: kind === "deposit" ? "Deposit into a wallet" : "Withdraw from a wallet",
    security,
    request: {
      params: s.WalletIdParam,
      headers: IdempotencyHeaders,
      body: { content: { "application/json": { schema: s.MoneyBody } } },
    },
    responses: { 201: json(s.Transaction, "The ledger entry"), 404: problem("wallet-not-found"), ...post },
  });
export const depositRoute = moneyRoute("deposit");
export const withdrawRoute = moneyRoute("withdraw");

export const transferRoute = createRoute({
  method: "post",
  path: "/api/v1/wallets/transfer",
  summary: "Transfer between wallets",
  security,
  request: { headers: IdempotencyHeaders, body: { content: { "application/json": { schema: s.TransferBody } } } },
  responses: {
    201: json(s.Transfer, "COMPLETED"),
    202: json(s.Transfer, "PENDING: a cross-cell credit is not yet confirmed; poll GET /transfers/{transferId}"),
    404: problem("wallet-not-found"),
    ...post,
  },
});

export const getTransferRoute = createRoute({
  method: "get",
  path: "/api/v1/transfers/{transferId}",
  summary: "Get a transfer",
  security,
  request: { params: s.TransferIdParam },
  responses: { 200: json(s.Transfer, "The transfer"), 404: problem("transfer-not-found"), ...common },
});

export const historicalBalanceRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/balance/historical",
  summary: "Balance at an instant in the past",
  security,
  request: { params: s.WalletIdParam, query: s.HistoricalQuery },
  responses: {
    200: json(s.HistoricalBalance, "Balance after the last entry at or before the timestamp"),
    404: problem("wallet-not-found"),
    422: problem("timestamp-in-future"),
    ...common,
  },
});

export const listTransactionsRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/transactions",
  summary: "List a wallet's ledger entries, newest first",
  security,
  request: { params: s.WalletIdParam, query: s.ListQuery },
  responses: { 200: json(s.TransactionPage, "A page of entries"), 404: problem("wallet-not-found"), ...common },
});

export const getTransactionRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/transactions/{transactionId}",
  summary: "Get one ledger entry",
  security,
  request: { params: s.TransactionParams },
  responses: {
    200: json(s.Transaction, "The entry"),
    404: problem("wallet-not-found or transaction-not-found"),
    ...common,
  },
});

export const auditWalletRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/audit",
  summary: "Verify a wallet's hash chain and balance",
  security,
  request: { params: s.WalletIdParam },
  responses: { 200: json(s.WalletAudit, "The verification result"), 404: problem("wallet-not-found"), ...common },
});

/** Paths and the methods they accept: anything else on a known path is 405. */
export const ALLOWED_METHODS: { pattern: RegExp; methods: string[] }[] = [
  { pattern: /^\/api\/v1\/wallets\/transfer$/, methods: ["POST"] },
  { pattern: /^\/api\/v1\/wallets$/, methods: ["GET", "POST"] },
  { pattern: /^\/api\/v1\/wallets\/[^/]+$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/wallets\/[^/]+\/(deposit|withdraw)$/, methods: ["POST"] },
  { pattern: /^\/api\/v1\/wallets\/[^/]+\/balance\/historical$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/wallets\/[^/]+\/transactions$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/wallets\/[^/]+\/transactions\/[^/]+$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/wallets\/[^/]+\/audit$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/transfers\/[^/]+$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/cell\/(audit|reconciliation)$/, methods: ["GET"] },
  { pattern: /^\/api\/v1\/cell\/checkpoints(\/[^/]+)?$/, methods: ["GET"] },
];
