import { LocalPlatform, type LocalPlatformOptions, localPlatformOptionsFromEnv } from "./local-platform.js";
import { startBanner } from "./start-banner.js";

/**
 * `npm start`: the local platform on the embedded store, data kept in
 * WALLET_DATA_DIR (default .data/) across restarts. A process that dies is
 * restarted with crash-loop backoff (0.5 s doubling to 30 s); only a failed
 * start of the platform itself ends it. Ctrl-C stops it cleanly.
 */
let settings: LocalPlatformOptions;
try {
  settings = localPlatformOptionsFromEnv(process.env);
} catch (error) {
  // A bad setting is the platform's own start failure: one line, exit 1, nothing started.
  console.error(`the local platform failed to start: ${(error as Error).message}`);
  process.exit(1);
}
const platform = new LocalPlatform(settings);
let exiting = false;

async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  console.log("\nstopping the local platform ...");
  await platform.stop();
  process.exit(code);
}

// A crashed process is restarted with backoff; the other cells and routers keep running.
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
platform.onSupervisorEvent = (event) => {
  const p = event.process;
  if (event.type === "exited") {
    const loop = event.crashLooping ? ` CRASH-LOOPING (${p.supervision.consecutiveCrashes} failures in a row);` : "";
    console.error(`${p.name} exited unexpectedly (${event.reason});${loop} restarting in ${seconds(event.delayMs)}`);
  } else {
    console.error(
      `${p.name} restarted (pid ${event.pid}, restart ${p.supervision.restarts}${event.after > 1 ? `, after ${event.after} failures in a row` : ""})`,
    );
  }
};
platform.onLivenessKill = (p, reason) => console.error(`${p.name} is hung (${reason}): killed; restarting it`);
platform.onIntendedKill = (p, reason) => console.error(`${p.name} stopped by ${reason}: restarting it`);
platform.onReconcileError = (error) => console.error(`applying the declared state failed (retrying): ${error.message}`);
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

platform.start().then(
  () => {
    const { options } = platform;
    console.log(
      startBanner(
        options,
        options.azs.map((az) => platform.routerUrl(az)),
        process.env,
      ),
    );
  },
  async (error: Error) => {
    // Everything it started is stopped first (start() already did), so the reason is the last line printed.
    exiting = true;
    await platform.stop().catch(() => undefined);
    console.error(`the local platform failed to start: ${error.message}`);
    process.exit(1);
  },
);
