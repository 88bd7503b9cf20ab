export { CellwalletClient, type ClientOptions, type WaitOptions, type WriteOptions, type Written } from "./client.js";
export {
  CellwalletError,
  DeadlineExceededError,
  type ProblemCode,
  ProblemError,
  RequestNotSentError,
  UnexpectedResponseError,
} from "./errors.js";
export type { CallOptions, RetryPolicy } from "./http.js";
export type * from "./types.js";
export { verifyEntries, type WalletChainVerification } from "./verify-chain.js";
