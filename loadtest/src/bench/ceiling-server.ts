/**
 * The framework ceiling: bare hono on @hono/node-server with nothing of the cell's (no auth, no store,
 * no logging, no metrics), one JSON POST echo and one JSON GET. Run as its own process by ceiling.ts
 * (`node loadtest/dist/bench/ceiling-server.js`), so its CPU is read from /proc like the cell's. It
 * prints its URL on stdout once it listens on a free loopback port.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
// The same shape of work as a deposit at the HTTP layer: read and parse a JSON body, answer 201 with JSON.
app.post("/echo/:id", async (c) => {
  const body = await c.req.json();
  return c.json({ id: c.req.param("id"), received: body }, 201);
});
// A GET answered from memory: the HTTP layer's part of GET wallet.
app.get("/echo/:id", (c) =>
  c.json({ walletId: c.req.param("id"), ownerUserId: "user", currency: "USD", balance: "1.00", version: 1 }),
);

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(`listening http://127.0.0.1:${info.port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
