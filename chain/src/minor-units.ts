import { minorUnits } from "./currencies.js";

const FORMATTED = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/**
 * Reads a formatted amount ("10.50") back into minor units; the inverse of formatMinor. Plain integer
 * arithmetic on the digits (no decimal library), so that the hash chain's verifiers need no package. Anything
 * but a plain decimal with at most the currency's minor digits is refused (it cannot come from formatMinor).
 */
export function minorFromFormatted(text: string, currency: string): bigint {
  const digits = minorUnits(currency);
  if (digits === undefined) throw new Error(`unknown currency ${currency}`);
  const match = FORMATTED.exec(text);
  const fraction = match?.[3] ?? "";
  if (!match || fraction.length > digits) {
    throw new Error(`${JSON.stringify(text)} is not an amount of ${currency} (${digits} minor digits)`);
  }
  const minor = BigInt(`${match[2]}${fraction.padEnd(digits, "0")}`);
  return match[1] === "-" ? -minor : minor;
}
