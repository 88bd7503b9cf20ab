/**
 * RFC 8785 (JSON Canonicalization Scheme) with nothing but the language: the hash chain's canonical JSON,
 * here so that the chain (and every offline verifier, @cellwallet/client included) needs no package.
 * JCS is defined on ECMAScript's own serialization: strings and numbers exactly as JSON.stringify writes
 * them, object members sorted by their UTF-16 code units (what Array.prototype.sort compares). Behaves as the
 * `canonicalize` package did for every value (jcs.test.ts compares the two on generated values): undefined
 * and symbol members left out (null in arrays), toJSON honoured, NaN, infinities, lone surrogates and cycles
 * refused; a function, a bigint or a top-level undefined is not JSON and is refused too.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new Error(Number.isNaN(value) ? "NaN is not allowed" : "Infinity is not allowed");
  }
  if (typeof value === "string") return quote(value);
  if (value === null || typeof value !== "object") {
    // booleans and numbers (ECMAScript's shortest round-trip form, as RFC 8785 requires); bigint throws.
    const text: string | undefined = JSON.stringify(value);
    if (text === undefined) throw new Error(`a ${typeof value} cannot be canonicalized`);
    return text;
  }
  if (seen.has(value)) throw new Error("Circular reference detected");
  seen.add(value);
  try {
    const withToJson = value as { toJSON?: unknown };
    if (typeof withToJson.toJSON === "function") return write((withToJson.toJSON as () => unknown).call(value), seen);
    if (Array.isArray(value)) {
      return `[${value.map((item) => write(item === undefined || typeof item === "symbol" ? null : item, seen)).join(",")}]`;
    }
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined || typeof member === "symbol") continue;
      members.push(`${quote(key)}:${write(member, seen)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    seen.delete(value);
  }
}

// With the u flag a surrogate pair is one code point: only an unpaired surrogate is of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** A JSON string as JCS writes it; a lone surrogate has no UTF-8 form, so it cannot be hashed. */
function quote(text: string): string {
  if (LONE_SURROGATE.test(text)) throw new Error("Lone surrogate is not allowed");
  return JSON.stringify(text);
}
