import { CommanderError } from "commander";
import { UsageError } from "./options.js";
import { buildCellload, EXIT_USAGE } from "./program.js";

/**
 * The cellload process (bin/cellload.js loads it): parses argv, runs, sets the exit status. The program itself
 * is in program.ts, so that tests can read its commands without running it.
 */

/** Runs the CLI; every failure is one line on stderr and a documented exit status, never a stack trace. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    await buildCellload(env).parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof UsageError) {
      process.stderr.write(`cellload: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`cellload: ${((error as Error).message ?? String(error)).split("\n")[0]}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv, process.env);
// Whatever handle a library left open (a keep-alive socket) must not keep a finished run alive.
setTimeout(() => process.exit(), 2000).unref();
