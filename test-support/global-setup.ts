import "vitest";
import type { TestProject } from "vitest/node";
import { startMoto } from "./moto-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

/** One moto server for the whole run; each test file isolates itself with its own table names. */
export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide("motoEndpoint", moto.endpoint);
  return async () => {
    await moto.stop();
  };
}
