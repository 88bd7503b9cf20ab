import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { INSTANCE_ENV } from "@cellwallet/contract";

/** One launch of a platform process: the child, the id it echoes on /ready, and what it wrote on stderr. */
export interface Launch {
  child: ChildProcess;
  instance: string;
  /** The tail of its stderr (its last line says why a failed start failed). */
  output(): string;
}

/**
 * Spawns `node <entry>` with a fresh instance id (CELLWALLET_INSTANCE), which the process echoes on /ready:
 * the proof that an answer comes from this launch, not from another platform's process holding the port
 * (that one answers /ready too, with its own id or none). stderr always goes through the launcher, which
 * keeps its tail and, with stdio "inherit", still shows it.
 */
export function spawnLaunch(entry: string, env: Record<string, string>, stdio: "inherit" | "ignore"): Launch {
  const instance = randomUUID();
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, ...env, [INSTANCE_ENV]: instance },
    stdio: ["ignore", stdio, "pipe"],
  });
  let tail = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stdio === "inherit") process.stderr.write(d);
    // Long enough to keep the real error when a warning (the AWS SDK's Node version notice) follows it.
    tail = (tail + d.toString()).slice(-4000);
  });
  return { child, instance, output: () => tail };
}
