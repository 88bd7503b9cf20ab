import { type ProblemCode, problemStatus } from "@cellwallet/contract";
import { z } from "@hono/zod-openapi";
import * as s from "./schemas.js";

/**
 * The response side of the published contract: every status an operation can answer, the problem codes
 * each status carries there (a response-schema enum, so a fuzzer checks them), and the headers.
 */

type HeaderSchema = { type: "string"; pattern?: string; enum?: string[] };
const header = (description: string, schema: HeaderSchema = { type: "string" }) => ({ description, schema });

export const LOCATION = header("The created resource (relative URL).");
const REPLAYED = header(
  "true when this is the stored answer to an earlier request with the same Idempotency-Key (replayed byte for byte).",
  { type: "string", enum: ["true"] },
);
const RETRY_AFTER = header("Seconds to wait before retrying (with the same Idempotency-Key for a POST).", {
  type: "string",
  pattern: "^[0-9]+$",
});
const WALLET_LOCATION = header(
  "On a cell (never through the router): the cell that now owns the wallet, after a move. The router follows it itself.",
);

/** A problem answer whose `code` is one of `codes` (all of one HTTP status). */
type Headers = Record<string, ReturnType<typeof header> & { required?: boolean }>;

export function problems(codes: ProblemCode[], description: string, headers?: Headers) {
  const statuses = new Set(codes.map(problemStatus));
  if (statuses.size !== 1) throw new Error(`problem codes of different statuses: ${codes.join(", ")}`);
  const schema = s.Problem.extend({ code: z.enum(codes as [ProblemCode, ...ProblemCode[]]) });
  return {
    content: { "application/problem+json": { schema } },
    description: `${description} (code: ${codes.join(", ")})`,
    ...(headers ? { headers } : {}),
  };
}

/** Answers every operation may give: authentication, authorisation, rate limits, an unavailable cell. */
export const COMMON = {
  401: problems(["unauthenticated"], "No valid bearer token"),
  403: problems(["forbidden"], "The principal may not do this"),
  429: problems(["rate-limited"], "Too many requests from this principal (router)", {
    "Retry-After": { ...RETRY_AFTER, required: true },
  }),
  503: problems(["cell-unavailable"], "The owning cell cannot answer now (restart, move, contention); retry", {
    "Retry-After": { ...RETRY_AFTER, required: true },
    "Wallet-Location": WALLET_LOCATION,
  }),
};

/** Answers of every state-changing POST (JSON body, Idempotency-Key). */
export const POST_COMMON = {
  ...COMMON,
  413: problems(["payload-too-large"], "The body is larger than 16 KiB"),
  415: problems(["unsupported-media-type"], "The body is missing or not application/json"),
};

/** A stored answer of an idempotent POST may be replayed: these headers go with every such status. */
export const replayable = { "Idempotency-Replayed": REPLAYED };

/** A JSON success answer. */
export function json<T extends z.ZodType>(schema: T, description: string, headers?: Headers) {
  return { content: { "application/json": { schema } }, description, ...(headers ? { headers } : {}) };
}

/** A replayable problem answer of a POST. */
export function storedProblems(codes: ProblemCode[], description: string) {
  return problems(codes, description, replayable);
}
