import { minorUnits } from "@cellwallet/chain";
import { Decimal } from "decimal.js";
import { JsonNumber } from "./json-number.js";

// A private Decimal with ample precision: money never meets floating point.
const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_DOWN, toExpNeg: -100, toExpPos: 100 });

/** Largest amount of one operation, in major units. */
export const MAX_OPERATION_MAJOR = 1_000_000_000;

const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(\.([0-9]+))?$/;
/** RFC 8259's number grammar: what a JsonNumber holds when it comes from the body parser. */
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** The most minor-unit digits of any accepted currency (CLF, UYW): the amount syntax allows this many. */
export const MAX_MINOR_DIGITS = 4;

/**
 * The exact syntax of a request amount in any currency, as published in the OpenAPI document: a plain
 * decimal (no sign, exponent, spaces or leading zeros), > 0, at most 1,000,000,000, at most 4 decimals.
 * A wallet's currency may allow fewer decimals: that is decided against the wallet (422 amount-precision).
 * parseAmount enforces exactly this (a test checks the two agree).
 */
export const AMOUNT_PATTERN =
  "^(?:[1-9][0-9]{0,8}(?:\\.[0-9]{1,4})?|1000000000(?:\\.0{1,4})?|0\\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$";

export type AmountResult =
  | { ok: true; minor: bigint }
  /** `tooPrecise`: a valid amount with more decimals than the currency has (422); otherwise not an amount (400). */
  | { ok: false; reason: string; tooPrecise?: true };

/**
 * Reads a request amount: a JSON string (preferred) or a JSON number literal,
 * decimal, > 0, at most the currency's minor digits, at most 1e9 major units.
 */
export function parseAmount(input: unknown, currency: string): AmountResult {
  const digits = minorUnits(currency);
  if (digits === undefined) return { ok: false, reason: `unknown currency ${currency}` };
  let value: Decimal;
  let places: number;
  if (typeof input === "string") {
    const match = PLAIN_DECIMAL.exec(input);
    if (!match) {
      return {
        ok: false,
        reason: 'amount must be a plain positive decimal such as "10.50" (no sign, exponent or spaces)',
      };
    }
    value = new D(input);
    // A string's decimals are counted as written, as the published pattern does ("10.500" is 3 decimals).
    places = (match[3] ?? "").length;
  } else if (input instanceof JsonNumber) {
    // The OpenAPI document can only say "number, > 0, <= 1e9, multiple of 0.0001" of a number: every JSON
    // literal with that value is accepted (100, 1e2, 100.00000), read exactly from its text; the constructor
    // never rounds, so 1.000…0001 stays too precise rather than becoming 1.
    if (!JSON_NUMBER.test(input.text)) return { ok: false, reason: "amount must be a JSON number" };
    value = new D(input.text);
    places = value.decimalPlaces();
  } else return { ok: false, reason: "amount must be a decimal string or a JSON number" };

  const tooManyDigits = `${currency} amounts have at most ${digits} decimal digit${digits === 1 ? "" : "s"}`;
  if (value.lte(0)) return { ok: false, reason: "amount must be greater than zero" };
  if (places > MAX_MINOR_DIGITS) return { ok: false, reason: tooManyDigits };
  if (value.gt(MAX_OPERATION_MAJOR)) {
    return { ok: false, reason: `amount must be at most ${MAX_OPERATION_MAJOR} ${currency}` };
  }
  // A well-formed amount this currency cannot hold: decided against the wallet, not the request's syntax.
  if (places > digits) return { ok: false, reason: tooManyDigits, tooPrecise: true };
  const minor = value.times(new D(10).pow(digits));
  return { ok: true, minor: BigInt(minor.toFixed(0)) };
}

/** Formats integer minor units with exactly the currency's minor digits: 1050n USD -> "10.50". */
export function formatMinor(minor: bigint, currency: string): string {
  const digits = minorUnits(currency);
  if (digits === undefined) throw new Error(`unknown currency ${currency}`);
  return new D(minor.toString()).dividedBy(new D(10).pow(digits)).toFixed(digits);
}

// Its inverse, minorFromFormatted, lives in @cellwallet/chain (no decimal.js): the hash chain's verifiers use it.
