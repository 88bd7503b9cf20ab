import type { components, operations } from "./generated/openapi.js";

/** The API's shapes, generated from docs/openapi.json (see generated/openapi.ts). */
type Schemas = components["schemas"];
export type Wallet = Schemas["Wallet"];
export type Transaction = Schemas["Transaction"];
export type Transfer = Schemas["Transfer"];
export type TransactionPage = Schemas["TransactionPage"];
export type HistoricalBalance = Schemas["HistoricalBalance"];
export type WalletAudit = Schemas["WalletAudit"];
export type Problem = Schemas["Problem"];
export type CreateWalletRequest = Schemas["CreateWallet"];
/** Amounts: decimal strings ("10.50"), never floats. */
export type MoneyRequest = Omit<Schemas["MoneyMovement"], "amount"> & { amount: string };
export type TransferRequest = Omit<Schemas["TransferRequest"], "amount"> & { amount: string };
export type ListTransactionsQuery = NonNullable<operations["listTransactions"]["parameters"]["query"]>;
