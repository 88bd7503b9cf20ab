/**
 * What every cellctl command prints through: one JSON document on stdout under --json (progress then goes
 * to stderr, so stdout stays parseable), lines for people otherwise. Failures are printed by runCellctl.
 */

/** The command's result as one JSON document on stdout. */
export function printJson(value: unknown, options: { compact?: boolean } = {}): void {
  process.stdout.write(`${options.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
}

/** Lines for people: on stdout, or on stderr under --json. */
export function progressWriter(json: boolean): (line: string) => void {
  return (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
}

/** Whether this invocation asked for JSON (decided from argv so that even a usage error answers in JSON). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes("--json");
}

/** A failure under --json: one object on stdout, with the exit status the process ends with. */
export function printJsonFailure(message: string, exitCode: number): void {
  printJson({ error: { message, exitCode } });
}
