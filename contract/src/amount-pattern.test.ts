import { describe, expect, it } from "vitest";
import { JsonNumber } from "./json-number.js";
import { AMOUNT_PATTERN, MAX_MINOR_DIGITS, parseAmount } from "./money.js";
import { IDEMPOTENCY_KEY_PATTERN, isValidIdempotencyKey } from "./request-id.js";

/**
 * The OpenAPI document publishes AMOUNT_PATTERN; the server reads amounts with parseAmount. These checks make
 * the two the same set: every text the pattern allows is accepted in a 4-decimal currency (and in any
 * currency up to its decimals, beyond them it is the 422 amount-precision case), and every other text is
 * refused as invalid-amount (400). Deterministic: all short texts over the relevant alphabet, the edges, and a
 * seeded sample of longer ones.
 */
const pattern = new RegExp(AMOUNT_PATTERN);

function* shortTexts(alphabet: string, maxLength: number): Generator<string> {
  let layer = [""];
  for (let length = 1; length <= maxLength; length++) {
    const next: string[] = [];
    for (const prefix of layer) for (const c of alphabet) next.push(prefix + c);
    yield* next;
    layer = next;
  }
}

function* seededTexts(count: number): Generator<string> {
  let state = 0x2545f491;
  const rand = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const alphabet = "0000111222333456789.....-+eE x";
  for (let i = 0; i < count; i++) {
    let text = "";
    const length = 1 + rand(16);
    for (let j = 0; j < length; j++) text += alphabet[rand(alphabet.length)];
    yield text;
  }
}

const EDGES = [
  "1000000000",
  "1000000000.0",
  "1000000000.0000",
  "1000000000.00000",
  "1000000000.0001",
  "1000000001",
  "999999999.9999",
  "0.0001",
  "0.0000",
  "0.00001",
  "0.1",
  "0.10",
  "00.1",
  "01",
  "0",
  "10.5",
  "10.50",
  "1.",
  ".1",
  "",
];

const fractionDigits = (text: string) => text.split(".")[1]?.length ?? 0;

describe("the published amount pattern is exactly what the server accepts", () => {
  const texts = [...shortTexts("01.9-", 6), ...seededTexts(20_000), ...EDGES];

  it("in a currency with the most decimals (CLF), for strings and JSON numbers alike", () => {
    expect(MAX_MINOR_DIGITS).toBe(4);
    const disagreements = texts.filter((text) => {
      const published = pattern.test(text);
      return published !== parseAmount(text, "CLF").ok || published !== parseAmount(new JsonNumber(text), "CLF").ok;
    });
    expect(disagreements).toEqual([]);
  });

  it.each([
    ["USD", 2],
    ["JPY", 0],
    ["BHD", 3],
  ])(
    "in %s: a published amount is accepted or refused only for its decimals (422); anything else is 400",
    (currency, digits) => {
      for (const text of texts) {
        const read = parseAmount(text, currency);
        if (!pattern.test(text)) {
          expect(read.ok, text).toBe(false);
          expect(!read.ok && read.tooPrecise, text).toBeFalsy();
        } else if (fractionDigits(text) <= digits) {
          expect(read.ok, text).toBe(true);
        } else {
          expect(!read.ok && read.tooPrecise, text).toBe(true);
        }
      }
    },
  );
});

describe("the published Idempotency-Key pattern", () => {
  it.each([
    ["a", true],
    ["a b", true],
    ["!", true],
    ["x".repeat(255), true],
    ["x".repeat(256), false],
    ["", false],
    [" a", false],
    ["a ", false],
    ["é", false],
    ["a\tb", false],
  ])("%j: %s", (key, valid) => {
    expect(isValidIdempotencyKey(key)).toBe(valid);
    expect(new RegExp(IDEMPOTENCY_KEY_PATTERN).test(key)).toBe(valid);
  });
});
