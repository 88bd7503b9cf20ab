import { createRoute, z } from "@hono/zod-openapi";
import { COMMON, json, LOCATION, POST_COMMON, problems, replayable, storedProblems } from "./route-responses.js";
import * as s from "./schemas.js";

/**
 * The public API's routes: the request schemas validate requests, and with route-responses.ts they generate
 * the OpenAPI document (docs/openapi.json), so the two cannot drift. Links connect the resource flows.
 */

const IdempotencyHeaders = z.object({ "Idempotency-Key": s.IdempotencyKey.optional() });
const security = [{ bearerAuth: [] }];
const body = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
  description: "application/json, at most 16 KiB (415 without it)",
});
const created = { Location: { ...LOCATION, required: true }, ...replayable };
const BAD_BODY = ["validation-error", "malformed-json"] as const;

/** OpenAPI links: how a response's values feed the next operation (also what a stateful fuzzer follows). */
const link = (operationId: string, parameters: Record<string, string>, description: string) => ({
  operationId,
  parameters,
  description,
});
const walletLinks = (walletId: string) => ({
  GetWallet: link("getWallet", { walletId }, "The wallet and its balance"),
  Deposit: link("deposit", { walletId }, "Deposit into it"),
  Withdraw: link("withdraw", { walletId }, "Withdraw from it"),
  ListTransactions: link("listTransactions", { walletId }, "Its ledger entries"),
  AuditWallet: link("auditWallet", { walletId }, "Verify its hash chain"),
});

export const createWalletRoute = createRoute({
  method: "post",
  path: "/api/v1/wallets",
  operationId: "createWallet",
  summary: "Create the user's wallet (one per user)",
  security,
  request: { headers: IdempotencyHeaders, body: body(s.CreateWalletBody) },
  responses: {
    201: {
      ...json(s.Wallet, "Created; Location names the wallet", created),
      links: {
        ...walletLinks("$response.body#/walletId"),
        FindWallets: link("findWallets", { userId: "$response.body#/userId" }, "Find it by its user"),
        HistoricalBalance: link(
          "getHistoricalBalance",
          { walletId: "$response.body#/walletId", timestamp: "$response.body#/createdAt" },
          "Its balance at creation",
        ),
      },
    },
    400: problems([...BAD_BODY], "The body is not a valid request"),
    409: {
      ...storedProblems(
        ["wallet-already-exists", "idempotency-in-progress"],
        "The user already has a wallet (walletId names it), or this Idempotency-Key is still running",
      ),
      links: { GetExistingWallet: link("getWallet", { walletId: "$response.body#/walletId" }, "The existing wallet") },
    },
    422: storedProblems(["idempotency-key-reused"], "This Idempotency-Key was used for a different request"),
    ...POST_COMMON,
  },
});

export const findWalletsRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets",
  operationId: "findWallets",
  summary: "Find a user's wallet",
  security,
  request: { query: s.UserQuery },
  responses: {
    200: json(s.WalletList, "The user's wallets (empty when none)"),
    400: problems(["validation-error"], "userId is missing or not a user id"),
    ...COMMON,
  },
});

export const getWalletRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}",
  operationId: "getWallet",
  summary: "Get a wallet and its balance",
  security,
  request: { params: s.WalletIdParam },
  responses: {
    200: { ...json(s.Wallet, "The wallet"), links: walletLinks("$response.body#/walletId") },
    404: problems(["wallet-not-found"], "No such wallet"),
    ...COMMON,
  },
});

const moneyRoute = (kind: "deposit" | "withdraw") =>
  createRoute({
    method: "post",
    path: `/api/v1/wallets/{walletId}/${kind}`,
    operationId: kind,
    summary: kind === "deposit" ? "Deposit into a wallet" : "Withdraw from a wallet",
    security,
    request: { params: s.WalletIdParam, headers: IdempotencyHeaders, body: body(s.MoneyBody) },
    responses: {
      201: {
        ...json(s.Transaction, "The ledger entry; Location names it", created),
        links: {
          GetTransaction: link(
            "getTransaction",
            { walletId: "$response.body#/walletId", transactionId: "$response.body#/transactionId" },
            "The entry",
          ),
          GetWallet: link("getWallet", { walletId: "$response.body#/walletId" }, "The wallet's new balance"),
          ListTransactions: link("listTransactions", { walletId: "$response.body#/walletId" }, "The history"),
        },
      },
      400: problems([...BAD_BODY, "invalid-amount"], "The body or its amount is not valid"),
      404: storedProblems(["wallet-not-found"], "No such wallet"),
      409: storedProblems(["idempotency-in-progress"], "This Idempotency-Key is still running; retry shortly"),
      422: storedProblems(
        kind === "withdraw"
          ? ["insufficient-funds", "amount-precision", "idempotency-key-reused"]
          : ["amount-precision", "idempotency-key-reused"],
        "Refused by the wallet's state or currency, or a reused Idempotency-Key",
      ),
      ...POST_COMMON,
    },
  });
export const depositRoute = moneyRoute("deposit");
export const withdrawRoute = moneyRoute("withdraw");

const transferLinks = {
  GetTransfer: link("getTransfer", { transferId: "$response.body#/transferId" }, "The transfer's current status"),
  GetSourceWallet: link("getWallet", { walletId: "$response.body#/fromWalletId" }, "The debited wallet"),
  ListSourceTransactions: link(
    "listTransactions",
    { walletId: "$response.body#/fromWalletId" },
    "The debited wallet's history",
  ),
};

export const transferRoute = createRoute({
  method: "post",
  path: "/api/v1/wallets/transfer",
  operationId: "transfer",
  summary: "Transfer between wallets",
  security,
  request: { headers: IdempotencyHeaders, body: body(s.TransferBody) },
  responses: {
    201: { ...json(s.Transfer, "COMPLETED; Location names the transfer", created), links: transferLinks },
    202: {
      ...json(
        s.Transfer,
        "PENDING: a cross-cell credit is not yet confirmed; poll GET /transfers/{transferId}. A replay answers this 202 for ever.",
        created,
      ),
      links: transferLinks,
    },
    400: problems([...BAD_BODY, "invalid-amount"], "The body or its amount is not valid"),
    404: storedProblems(
      ["wallet-not-found"],
      "A wallet does not exist (after a cross-cell refusal: transferId names the refunded transfer)",
    ),
    409: storedProblems(["idempotency-in-progress"], "This Idempotency-Key is still running; retry shortly"),
    422: storedProblems(
      ["insufficient-funds", "amount-precision", "currency-mismatch", "same-wallet-transfer", "idempotency-key-reused"],
      "Refused by the wallets' state or currencies, or a reused Idempotency-Key",
    ),
    ...POST_COMMON,
  },
});

export const getTransferRoute = createRoute({
  method: "get",
  path: "/api/v1/transfers/{transferId}",
  operationId: "getTransfer",
  summary: "Get a transfer",
  security,
  request: { params: s.TransferIdParam },
  responses: {
    200: json(s.Transfer, "The transfer"),
    404: problems(["transfer-not-found"], "No such transfer"),
    ...COMMON,
  },
});

export const historicalBalanceRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/balance/historical",
  operationId: "getHistoricalBalance",
  summary: "Balance at an instant in the past",
  security,
  request: { params: s.WalletIdParam, query: s.HistoricalQuery },
  responses: {
    200: json(s.HistoricalBalance, "Balance after the last entry at or before the timestamp"),
    400: problems(["validation-error"], "timestamp is missing or not RFC 3339"),
    404: problems(["wallet-not-found"], "No such wallet"),
    422: problems(["timestamp-in-future"], "The timestamp is in the future"),
    ...COMMON,
  },
});

export const listTransactionsRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/transactions",
  operationId: "listTransactions",
  summary: "List a wallet's ledger entries, newest first",
  security,
  request: { params: s.WalletIdParam, query: s.ListQuery },
  responses: {
    200: json(s.TransactionPage, "A page of entries; nextCursor is null on the last page"),
    400: problems(["validation-error"], "limit, cursor, from or to is not valid"),
    404: problems(["wallet-not-found"], "No such wallet"),
    ...COMMON,
  },
});

export const getTransactionRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/transactions/{transactionId}",
  operationId: "getTransaction",
  summary: "Get one ledger entry",
  security,
  request: { params: s.TransactionParams },
  responses: {
    200: json(s.Transaction, "The entry"),
    404: problems(["wallet-not-found", "transaction-not-found"], "No such wallet or entry"),
    ...COMMON,
  },
});

export const auditWalletRoute = createRoute({
  method: "get",
  path: "/api/v1/wallets/{walletId}/audit",
  operationId: "auditWallet",
  summary: "Verify a wallet's hash chain and balance",
  security,
  request: { params: s.WalletIdParam },
  responses: {
    200: json(s.WalletAudit, "The verification result"),
    404: problems(["wallet-not-found"], "No such wallet"),
    ...COMMON,
  },
});
