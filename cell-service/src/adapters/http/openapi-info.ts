/** The OpenAPI document's header (the paths come from routes.ts). */
export const openApiInfo = {
  openapi: "3.1.0",
  info: {
    title: "Cellwallet public API",
    version: "1.0.0",
    description:
      "Wallets, deposits, withdrawals, transfers, history and audit. Served by the cell router and by every cell. " +
      "Errors are RFC 9457 application/problem+json. See docs/conventions.md in the repository for money, time, idempotency and auth rules.",
  },
  servers: [{ url: "http://localhost:8080" }],
};
