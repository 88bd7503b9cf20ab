/**
 * Ctrl-C (SIGINT) or SIGTERM during `cellload run`, as k6 users expect: the first
 * one stops offering load, lets the requests in flight finish, settles and checks
 * the books and prints the summary (a run that moved money must not end without
 * its books checked); a second one quits at once. Exit status then 130, or 1 when
 * the books disagree.
 */
export const EXIT_INTERRUPTED = 130;

export interface Interrupt {
  requested(): boolean;
  release(): void;
}

export function catchInterrupt(log: (line: string) => void): Interrupt {
  let requested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) process.exit(EXIT_INTERRUPTED);
    requested = true;
    log(`\ncellload: ${signal}: stopping the load, then the summary and the books check (again to quit at once)`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    requested: () => requested,
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
