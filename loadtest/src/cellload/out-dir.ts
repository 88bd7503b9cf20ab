import { accessSync, constants } from "node:fs";
import { makeDirectory } from "@cellwallet/store-support/fs";
import { UsageError } from "./options.js";

/**
 * `--out <dir>` made ready before any load is offered: a directory that cannot be
 * written is a usage error (exit 2) now, not a failure after a run of minutes
 * whose results would then be lost (and whose exit 1 would read as wrong books).
 */
export function prepareOutDir(dir: string): void {
  try {
    makeDirectory(dir);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--out ${dir}: cannot write there (${code})`);
  }
}
