import { readFileSync } from "node:fs";

/** Resident memory of a process, from /proc/<pid>/status (Linux); undefined elsewhere. */
export interface Memory {
  /** VmRSS: resident set now, MB. */
  rssMb: number;
  /** VmHWM: the highest resident set since the process started, MB. */
  peakRssMb: number;
}

export function readMemory(pid: number | undefined): Memory | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    const rss = kb("VmRSS");
    const peak = kb("VmHWM");
    if (!Number.isFinite(rss)) return undefined;
    return { rssMb: rss / 1024, peakRssMb: peak / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU time per response in µs, from % of one core and responses per second. */
export const cpuMicrosPerOp = (percent: number | undefined, rps: number): number | undefined =>
  percent === undefined || rps <= 0 ? undefined : (percent * 1e4) / rps;
