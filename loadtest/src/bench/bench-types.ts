import type { MoneyOp } from "./book.js";

/** Types shared by the benchmark scenarios, their fixtures and cellload (a module of their own: no import cycle). */

export interface BenchWallet {
  walletId: string;
  userId: string;
  /** The owner's token (scope "wallet"). */
  token: string;
}

export interface BuiltRequest {
  method: "GET" | "POST";
  path: string;
  token: string;
  body?: string;
  /** The operation this request carries, tracked in the books (POSTs only). */
  op?: MoneyOp;
}
