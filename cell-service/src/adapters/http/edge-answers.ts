import { problem } from "@cellwallet/contract";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { Logger } from "pino";
import { ContentionError } from "../../application/ledger-store.js";
import type { CellEnv } from "./context.js";
import type { CellMetrics } from "./metrics.js";
import { sendProblem } from "./respond.js";

/** What the cell answers when no handler does: a thrown error, an unknown path. */

export function errorAnswer(metrics: CellMetrics, logger: Logger): ErrorHandler<CellEnv> {
  return function answerError(error, c) {
    if (error instanceof ContentionError) {
      metrics.ops.contentionErrors.inc();
      return sendProblem(c, problem("cell-unavailable", error.message), { "retry-after": "1" });
    }
    if ("status" in error && error.status === 400) {
      return sendProblem(c, problem("malformed-json", "the body is not valid JSON"));
    }
    logger.error({ requestId: c.get("requestId"), err: { message: error.message, stack: error.stack } }, "bug");
    return sendProblem(c, problem("internal-error", "an internal error occurred; it has been logged"));
  };
}

export const notFoundAnswer: NotFoundHandler<CellEnv> = function answerNotFound(c: Context<CellEnv>) {
  return sendProblem(c, problem("not-found", `no resource at ${c.req.path}`));
};
