import { describe, expect, it } from "vitest";
import { readBodyLimited } from "./request-body.js";

const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  new Request("http://cell.test/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

describe("readBodyLimited", () => {
  it("reads a body that declares its length, and refuses one declared over the limit", async () => {
    const body = '{"amount":"1.00"}';
    expect(new TextDecoder().decode(await readBodyLimited(post(body, { "content-length": "17" }), 100))).toBe(body);
    expect(await readBodyLimited(post("x".repeat(20), { "content-length": "20" }), 10)).toBeUndefined();
  });

  it("refuses a body longer than the limit whatever its Content-Length claims", async () => {
    expect(await readBodyLimited(post("x".repeat(100), { "content-length": "3" }), 10)).toBeUndefined();
  });

  it("reads a body without a length (chunked) up to the limit and stops past it", async () => {
    expect(new TextDecoder().decode(await readBodyLimited(post(streamOf(["ab", "cd"])), 10))).toBe("abcd");
    expect(await readBodyLimited(post(streamOf(["x".repeat(8), "x".repeat(8)])), 10)).toBeUndefined();
  });

  it("gives an empty body for GET", async () => {
    expect((await readBodyLimited(new Request("http://cell.test/x"), 10))?.byteLength).toBe(0);
  });
});
