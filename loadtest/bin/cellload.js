#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm ci` (prepare) or `npm run build`.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cellload/cli.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("cellload is not built yet: run `npm run build` at the repository root");
  process.exit(2);
}
// A reader that stops early (`--help | head -1`) closes the pipe: the output ends there, which is no error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
await import(entry.href);
