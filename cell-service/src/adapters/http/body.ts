import { JsonNumber, MAX_BODY_BYTES, problem, readBodyLimited } from "@cellwallet/contract";
import type { MiddlewareHandler } from "hono";
import { isLosslessNumber, parse } from "lossless-json";
import type { CellEnv } from "./context.js";
import { sendProblem } from "./respond.js";

const JSON_MEDIA = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

function toPlain(value: unknown): unknown {
  if (isLosslessNumber(value)) return new JsonNumber(value.value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    // defineProperty: a "__proto__" member stays a plain (and then rejected) field.
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/**
 * For requests with a body: 415 unless application/json, 413 past 16 KiB, 400
 * malformed-json unless valid UTF-8 JSON (duplicate keys included). Numbers are
 * kept as their literal text (JsonNumber), and the route validators see this
 * lossless value instead of JSON.parse's rounded one.
 */
export function jsonBody(maxBytes = MAX_BODY_BYTES): MiddlewareHandler<CellEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBytes) {
      return sendProblem(c, problem("payload-too-large", `request bodies are at most ${maxBytes} bytes`));
    }
    const type = c.req.header("content-type");
    if (!type || !JSON_MEDIA.test(type.trim())) {
      return sendProblem(c, problem("unsupported-media-type", "send the body as application/json"));
    }
    const bytes = await readBodyLimited(c.req.raw, maxBytes);
    if (bytes === undefined) {
      return sendProblem(c, problem("payload-too-large", `request bodies are at most ${maxBytes} bytes`));
    }
    let text: string;
    let parsed: unknown;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      parsed = toPlain(parse(text));
    } catch (error) {
      // A RangeError is the parser running out of stack on deep nesting: say that, not the engine's message.
      const why =
        error instanceof RangeError ? "nested too deeply" : error instanceof Error ? error.message : "invalid JSON";
      return sendProblem(c, problem("malformed-json", `the body is not valid JSON: ${why.slice(0, 200)}`));
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return sendProblem(
        c,
        problem("validation-error", "the body must be a JSON object", {
          errors: [{ pointer: "", detail: "must be an object" }],
        }),
      );
    }
    c.set("parsedBody", parsed);
    // The route validators read c.req.json(): give them the lossless value.
    (c.req as unknown as { json: () => Promise<unknown> }).json = async () => parsed;
    return next();
  };
}
