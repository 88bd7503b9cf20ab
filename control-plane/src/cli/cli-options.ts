import { InvalidArgumentError } from "commander";

/**
 * The one set of parsers for cellctl's numeric options. Commander calls them while parsing, so a bad value
 * ("abc", "-1", "1.5" where a count is meant) is a usage error — exit 2 with one line naming the option —
 * before the command does anything, never a NaN that reaches a timer, a slice or the registry.
 */

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;
const INTEGER = /^[0-9]+$/;

/** 1, 2, 3…: a count, a timeout in milliseconds. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError("It must be a whole number above 0.");
  return n;
}

/** 0, 1, 2…: a count or duration where 0 means "none" or "skip". */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError("It must be a whole number of 0 or more.");
  return n;
}

/** A number above 0, e.g. 1.5 or 2. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("It must be a number above 0.");
  return n;
}

/** A number of 0 or more, e.g. 0, 30 or 2.5. */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError("It must be a number of 0 or more.");
  return n;
}

/** A TCP port to listen on, 0 (any free one) to 65535. */
export function port(value: string): number {
  const n = Number(value);
  if (!INTEGER.test(value) || n > 65535) throw new InvalidArgumentError("It must be a port number (0 to 65535).");
  return n;
}

/** A percentage 0..100, as a fraction (10 → 0.1). */
export function percent(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n > 100)
    throw new InvalidArgumentError("It must be a percentage between 0 and 100.");
  return n / 100;
}
