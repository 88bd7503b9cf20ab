import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, type ProblemCode, problemBody } from "./problems.js";

/**
 * What Node's HTTP parser refuses before any route runs (bytes that are not HTTP, headers past
 * --max-http-header-size, a request not received within headersTimeout/requestTimeout). Node's own answer is a
 * bare "400 Bad Request" without a body; router and cells answer these as every other refusal, as
 * application/problem+json, so a client's error handling has one shape to read.
 */
export function clientErrorProblem(errorCode: string | undefined): { code: ProblemCode; detail: string } {
  switch (errorCode) {
    case "HPE_HEADER_OVERFLOW":
      return { code: "headers-too-large", detail: "The request's headers are larger than the server accepts." };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { code: "request-timeout", detail: "The request was not received completely in time." };
    default:
      return { code: "malformed-request", detail: "The request is not valid HTTP/1.1." };
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/** The whole HTTP response, as bytes for a socket that no request object exists for. */
export function rawProblemResponse(code: ProblemCode, detail: string, requestId: string): string {
  const status = PROBLEM_TYPES[code].status;
  const body = JSON.stringify(problemBody({ code, detail }, requestId));
  return [
    `HTTP/1.1 ${status} ${REASONS[status] ?? PROBLEM_TYPES[code].title}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${requestId}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

interface ClientErrorSource {
  on(event: "clientError", listener: (error: NodeJS.ErrnoException, socket: Duplex) => void): unknown;
}

/** Replaces Node's bare answer to an unparseable request with a problem (Node's documented clientError hook). */
export function answerClientErrorsWithProblems(server: ClientErrorSource): void {
  server.on("clientError", (error, socket) => {
    // A peer that reset the connection, or a socket already answered, gets nothing: there is no one to read it.
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const { code, detail } = clientErrorProblem(error.code);
    socket.end(rawProblemResponse(code, detail, randomUUID()));
  });
}
