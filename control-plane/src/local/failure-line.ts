/**
 * The one line of a failed process's stderr that says why it failed. The cell and the router end a failed
 * start with a line of their own ("cell-service: cannot listen on …", "cell-router failed to start: …");
 * without one (another entry point, a crash), the last line that is not Node's own trailer (its version,
 * a warning's first and hint lines) or a stack frame. A warning printed after the error (the AWS SDK's
 * Node version notice spans several lines) can still win the fallback, never over a process's own line.
 */
const OWN_LINE = /^(cell-service|cell-router)\b/;
const NOISE = [/^Node\.js v\d/, /^\(node:\d+\)/, /^\(Use `node /, /^at /, /^[{}[\]^]+$/];

export function failureLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !NOISE.some((noise) => noise.test(line)));
  return lines.findLast((line) => OWN_LINE.test(line)) ?? lines.at(-1) ?? "";
}
