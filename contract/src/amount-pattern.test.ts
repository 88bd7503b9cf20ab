import { describe, expect, it } from "vitest";
import { JsonNumber } from "./json-number.js";
import { AMOUNT_PATTERN, MAX_MINOR_DIGITS, parseAmount } from "./money.js";
import { IDEMPOTENCY_KEY_PATTERN, isValidIdempotencyKey, REFERENCE_PATTERN } from "./request-id.js";

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

// RFC 8259's number grammar: only such texts reach the server as JSON numbers (anything else is malformed JSON).
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.([0-9]+))?([eE]([+-]?[0-9]+))?$/;

/**
 * What the OpenAPI document says of a number (exclusiveMinimum 0, maximum 1e9, multipleOf 0.0001), decided
 * exactly in integers, independently of parseAmount: the literal is digits × 10^exponent. Returns the value's
 * decimal places (0..4) when the schema accepts it, otherwise undefined.
 */
function schemaNumberPlaces(text: string): number | undefined {
  const match = JSON_NUMBER.exec(text);
  if (!match || text.startsWith("-")) return undefined;
  let digits = BigInt(`${match[1]}${match[3] ?? ""}`);
  let exponent = Number(match[5] ?? "0") - (match[3] ?? "").length;
  if (digits === 0n) return undefined;
  while (digits % 10n === 0n) {
    digits /= 10n;
    exponent++;
  }
  if (exponent > 9) return undefined; // at least 1e10: over the maximum, and 10n ** 1e9 would not end
  const places = Math.max(0, -exponent);
  if (places > MAX_MINOR_DIGITS) return undefined;
  const tenThousandths =
    exponent + 4 >= 0 ? digits * 10n ** BigInt(exponent + 4) : digits / 10n ** BigInt(-exponent - 4);
  return tenThousandths <= 10_000_000_000_000n ? places : undefined;
}

const NUMBER_EDGES = [
  "1e2",
  "1E2",
  "1e+2",
  "15e-1",
  "1.5E1",
  "100.00000",
  "1e9",
  "1.0000000001e9",
  "1e-4",
  "1e-5",
  "12345e-4",
  "123456e-5",
  "0e5",
  "-1e2",
  `1.${"0".repeat(70)}1`,
  "1000000000.00000000",
];

describe("the published amount pattern is exactly what the server accepts", () => {
  const texts = [...shortTexts("01.9-", 6), ...seededTexts(20_000), ...EDGES];
  const numberTexts = [...texts, ...NUMBER_EDGES, ...shortTexts("015e.-", 5)].filter((text) => JSON_NUMBER.test(text));

  it("in a currency with the most decimals (CLF), for strings (the pattern) and JSON numbers (range and multipleOf)", () => {
    expect(MAX_MINOR_DIGITS).toBe(4);
    const disagreements = texts.filter((text) => pattern.test(text) !== parseAmount(text, "CLF").ok);
    expect(disagreements).toEqual([]);
    expect(numberTexts.length).toBeGreaterThan(1000);
    const numberDisagreements = numberTexts.filter(
      (text) => (schemaNumberPlaces(text) !== undefined) !== parseAmount(new JsonNumber(text), "CLF").ok,
    );
    expect(numberDisagreements).toEqual([]);
  });

  it("reads a JSON number by its value, whatever its spelling: 1e2 is 100", () => {
    expect(parseAmount(new JsonNumber("1e2"), "USD")).toEqual({ ok: true, minor: 10_000n });
    expect(parseAmount(new JsonNumber("15e-1"), "USD")).toEqual({ ok: true, minor: 150n });
    expect(parseAmount(new JsonNumber("100.00000"), "JPY")).toEqual({ ok: true, minor: 100n });
    expect(parseAmount(new JsonNumber("1.23e-2"), "USD")).toMatchObject({ ok: false, tooPrecise: true });
    const almostOne = parseAmount(new JsonNumber(`1.${"0".repeat(70)}1`), "USD");
    expect(almostOne.ok || almostOne.tooPrecise).toBeFalsy();
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
      for (const text of numberTexts) {
        const read = parseAmount(new JsonNumber(text), currency);
        const places = schemaNumberPlaces(text);
        if (places === undefined) {
          expect(read.ok, text).toBe(false);
          expect(!read.ok && read.tooPrecise, text).toBeFalsy();
        } else {
          expect(read.ok, text).toBe(places <= digits);
          expect(Boolean(!read.ok && read.tooPrecise), text).toBe(places > digits);
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

describe("the published reference pattern", () => {
  const reference = new RegExp(REFERENCE_PATTERN);
  it.each(["", "rent", "Caf\u00e9 \u2615 \u{1F4B0}", "\u0645\u0631\u062d\u0628\u0627", "a\u00a0b", "x".repeat(128)])(
    "accepts %j",
    (text) => expect(reference.test(text)).toBe(true),
  );
  it.each([
    "\u0000",
    "a\nb",
    "\t",
    "\r",
    "\u001b[31m",
    "\u007f",
    "\u0085",
    "\u009f",
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
  ])("refuses %j", (text) => expect(reference.test(`ok${text}ok`)).toBe(false));
});
