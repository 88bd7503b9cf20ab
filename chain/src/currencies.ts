/**
 * ISO 4217 active currency codes and their minor-unit digits.
 * Most currencies use 2 digits; the exceptions are listed explicitly so that a
 * reader can check them against the standard.
 */
const TWO_DIGIT_CODES =
  "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF " +
  "CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF " +
  "IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR " +
  "MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD " +
  "SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD XCG YER " +
  "ZAR ZMW ZWG";
const ZERO_DIGIT_CODES = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const THREE_DIGIT_CODES = "BHD IQD JOD KWD LYD OMR TND";
const FOUR_DIGIT_CODES = "CLF UYW";

function table(): ReadonlyMap<string, number> {
  const map = new Map<string, number>();
  const add = (codes: string, digits: number) => {
    for (const code of codes.split(" ")) map.set(code, digits);
  };
  add(TWO_DIGIT_CODES, 2);
  add(ZERO_DIGIT_CODES, 0);
  add(THREE_DIGIT_CODES, 3);
  add(FOUR_DIGIT_CODES, 4);
  return map;
}

const MINOR_UNITS = table();

export const DEFAULT_CURRENCY = "USD";

/** Every accepted code, sorted (the OpenAPI document's enum). */
export const CURRENCY_CODES: readonly string[] = [...MINOR_UNITS.keys()].sort();

/** Minor-unit digits of an ISO 4217 code, or undefined when the code is not a currency we accept. */
export function minorUnits(currency: string): number | undefined {
  return MINOR_UNITS.get(currency);
}

export function isCurrency(code: unknown): code is string {
  return typeof code === "string" && MINOR_UNITS.has(code);
}
