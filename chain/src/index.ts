/**
 * `@cellwallet/chain`: what an offline verifier of the hash chain needs, and nothing that needs a
 * package (these modules import only `node:crypto`). @cellwallet/client runs on this package alone;
 * client/test/runtime-dependencies.test.ts fails when its import graph reaches anything else.
 */
export { CURRENCY_CODES, DEFAULT_CURRENCY, isCurrency, minorUnits } from "./currencies.js";
export * from "./hash-chain.js";
export { canonicalJson } from "./jcs.js";
export { minorFromFormatted } from "./minor-units.js";
