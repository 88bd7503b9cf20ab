import "vitest";
import type { TestProject } from "vitest/node";
import { type MotoServer, startMoto } from "./moto-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

// Every project (tier) that lists this file runs it; they share one server through the main process's global.
const shared = globalThis as { cellwalletMoto?: { server: Promise<MotoServer>; users: number } };

/** One moto server for the whole run; each test file isolates itself with its own table names. */
export default async function setup(project: TestProject) {
  shared.cellwalletMoto ??= { server: startMoto(), users: 0 };
  const entry = shared.cellwalletMoto;
  entry.users += 1;
  const moto = await entry.server;
  project.provide("motoEndpoint", moto.endpoint);
  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    if (shared.cellwalletMoto === entry) delete shared.cellwalletMoto;
    await moto.stop();
  };
}
