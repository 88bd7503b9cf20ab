// The hash chain, currencies, canonical JSON and minorFromFormatted: the dependency-free @cellwallet/chain,
// re-exported so that importers of the contract see what they saw before it moved.
export * from "@cellwallet/chain";
export * from "./auth.js";
export * from "./cell-scoped-id.js";
export * from "./client-error.js";
export * from "./internal-api.js";
export * from "./json-number.js";
export * from "./jwt.js";
export * from "./migration-api.js";
export * from "./money.js";
export * from "./problems.js";
export * from "./process-instance.js";
export * from "./production-mode.js";
export * from "./request-body.js";
export * from "./request-id.js";
export * from "./routes.js";
export * from "./time.js";
export * from "./token-cache.js";
