import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HUGE_HEADERS, NOT_HTTP, rawHttp } from "../../test-support/raw-http.js";
import { answerClientErrorsWithProblems, clientErrorProblem, rawProblemResponse } from "./client-error.js";

describe("requests the HTTP parser refuses are answered as problems", () => {
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end("ok"));
    answerClientErrorsWithProblems(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("bytes that are not HTTP: 400 malformed-request, application/problem+json, a request id, connection closed", async () => {
    const answer = await rawHttp(port, NOT_HTTP);
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect(answer.headers.connection).toBe("close");
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ status: 400, code: "malformed-request", type: "/problems/malformed-request" });
    expect(body.requestId).toBe(answer.headers["x-request-id"]);
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(answer.body));
  });

  it("headers past the parser's limit: 431 headers-too-large", async () => {
    const answer = await rawHttp(port, HUGE_HEADERS);
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 431, code: "headers-too-large" });
  });

  it("maps Node's parser codes, and writes a status line each client can read", () => {
    expect(clientErrorProblem("ERR_HTTP_REQUEST_TIMEOUT").code).toBe("request-timeout");
    expect(clientErrorProblem("HPE_INVALID_METHOD").code).toBe("malformed-request");
    expect(clientErrorProblem(undefined).code).toBe("malformed-request");
    expect(rawProblemResponse("request-timeout", "late", "r-1").split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });
});
