import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../options.js";
import type { Scenario } from "../scenario.js";
import { BUILTIN_SCENARIOS } from "./builtin.js";

/**
 * A scenario by built-in name, or a module a user wrote (path ending in .js,
 * .mjs or .ts) exporting `scenario` (or a default export) of the Scenario shape.
 * A .ts file needs a Node that strips types (22.6+ with --experimental-strip-types,
 * 23.6+ by default); on older ones compile it to .js first.
 */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const builtin = BUILTIN_SCENARIOS.find((s) => s.name === nameOrPath);
  if (builtin) return builtin;
  if (!/\.(m?js|ts)$/.test(nameOrPath)) {
    throw new UsageError(
      `unknown scenario ${JSON.stringify(nameOrPath)}; known: ${BUILTIN_SCENARIOS.map((s) => s.name).join(", ")} (or a path to a .js/.ts module)`,
    );
  }
  const path = resolve(nameOrPath);
  if (!existsSync(path)) throw new UsageError(`scenario file ${path} does not exist`);
  let module: { scenario?: unknown; default?: unknown };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    const hint = path.endsWith(".ts")
      ? " (a .ts scenario needs Node ≥ 22.6 with type stripping; or compile it to .js)"
      : "";
    throw new UsageError(`cannot load scenario ${path}: ${(error as Error).message.split("\n")[0]}${hint}`);
  }
  const candidate = (module.scenario ?? module.default) as Partial<Scenario> | undefined;
  if (!candidate || typeof candidate.iteration !== "function" || typeof candidate.name !== "string") {
    throw new UsageError(
      `scenario ${path} must export \`scenario\` with name, description, money and iteration(ctx, it)`,
    );
  }
  return { description: "", money: false, ...candidate } as Scenario;
}
