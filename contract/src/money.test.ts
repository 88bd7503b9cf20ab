import { CURRENCY_CODES, minorFromFormatted, minorUnits } from "@cellwallet/chain";
import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { JsonNumber } from "./json-number.js";
import { formatMinor, parseAmount } from "./money.js";

describe("parseAmount", () => {
  it.each([
    ["10.50", "USD", 1050n],
    ["10.5", "USD", 1050n],
    ["0.01", "USD", 1n],
    ["1000000000", "USD", 100_000_000_000n],
    ["1000000000.00", "USD", 100_000_000_000n],
    ["5", "JPY", 5n],
    ["0.001", "BHD", 1n],
    ["12.345", "BHD", 12_345n],
  ])("reads %s %s as %s minor units", (text, currency, minor) => {
    expect(parseAmount(text, currency)).toEqual({ ok: true, minor });
    expect(parseAmount(new JsonNumber(text), currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ["10.005", "USD"],
    ["1.5", "JPY"],
    ["0.0001", "BHD"],
    ["0", "USD"],
    ["0.00", "USD"],
    ["-1", "USD"],
    ["+1", "USD"],
    ["1e3", "USD"],
    ["1E3", "USD"],
    [" 1", "USD"],
    ["1 ", "USD"],
    ["", "USD"],
    ["NaN", "USD"],
    ["Infinity", "USD"],
    ["0x10", "USD"],
    ["01", "USD"],
    [".5", "USD"],
    ["5.", "USD"],
    ["1,5", "USD"],
    ["1000000000.01", "USD"],
    ["123456789012345678901234567890", "USD"],
    ["10", "XXX"],
  ])("refuses %j in %s", (text, currency) => {
    expect(parseAmount(text, currency).ok).toBe(false);
  });

  it("refuses values that are neither strings nor JSON numbers", () => {
    for (const value of [10, true, null, undefined, {}, [], 10n]) expect(parseAmount(value, "USD").ok).toBe(false);
  });
});

describe("formatMinor", () => {
  it("prints exactly the currency's minor digits", () => {
    expect(formatMinor(1050n, "USD")).toBe("10.50");
    expect(formatMinor(0n, "USD")).toBe("0.00");
    expect(formatMinor(7n, "JPY")).toBe("7");
    expect(formatMinor(5n, "BHD")).toBe("0.005");
    expect(formatMinor(-1n, "USD")).toBe("-0.01");
  });

  it("is exact far beyond floating point", () => {
    const huge = 123_456_789_012_345_678_901_234_567n;
    expect(formatMinor(huge, "USD")).toBe("1234567890123456789012345.67");
    expect(minorFromFormatted(formatMinor(huge, "USD"), "USD")).toBe(huge);
  });
});

/** minorFromFormatted exactly as it was written with decimal.js (every stored balance was read this way). */
function minorBefore(text: string, currency: string): bigint {
  const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_DOWN, toExpNeg: -100, toExpPos: 100 });
  return BigInt(new D(text).times(new D(10).pow(minorUnits(currency) as number)).toFixed(0));
}

describe("minorFromFormatted (@cellwallet/chain, written without decimal.js)", () => {
  it("reads every formatted amount of every currency as decimal.js did, and inverts formatMinor", () => {
    CURRENCY_CODES.forEach((currency, i) => {
      const varied = BigInt(i + 1) * 7_919_000_003n;
      for (const minor of [0n, 1n, 9n, 10n, 99n, 100n, 1050n, 10n ** 20n + 7n, varied]) {
        for (const signed of [minor, -minor]) {
          const text = formatMinor(signed, currency);
          expect(minorFromFormatted(text, currency), `${text} ${currency}`).toBe(minorBefore(text, currency));
          expect(minorFromFormatted(text, currency)).toBe(signed);
        }
      }
    });
    expect(minorFromFormatted("10.5", "USD")).toBe(1050n);
    expect(minorFromFormatted("7", "BHD")).toBe(7000n);
  });
});
