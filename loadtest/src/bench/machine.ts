import { execFileSync } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine so far, in clock ticks, from /proc/stat (Linux). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    if (!line.startsWith("cpu ")) return undefined;
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    // idle + iowait are not busy
    return { busy: total - (values[3] ?? 0) - (values[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** CPU use of some processes over an interval, in % of one core. */
export class CpuMeter {
  private readonly start = new Map<string, number | undefined>();
  private readonly startedAt = process.hrtime.bigint();
  private readonly selfStart = process.cpuUsage();
  private readonly machineStart = machineTicks();

  constructor(private readonly pids: Record<string, number | undefined>) {
    for (const [name, pid] of Object.entries(pids)) this.start.set(name, processCpuSeconds(pid));
  }

  /**
   * % of one core per process since construction; "self" is this (the load generator's) process and
   * "machine" the whole machine (all processes, up to 100 × CPUs).
   */
  read(): Record<string, number | undefined> {
    const elapsed = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    const out: Record<string, number | undefined> = {};
    const machineEnd = machineTicks();
    if (this.machineStart && machineEnd && machineEnd.total > this.machineStart.total) {
      out.machine =
        (100 * cpus().length * (machineEnd.busy - this.machineStart.busy)) /
        (machineEnd.total - this.machineStart.total);
    }
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.start.get(name);
      const after = processCpuSeconds(pid);
      out[name] = before === undefined || after === undefined ? undefined : (100 * (after - before)) / elapsed;
    }
    const self = process.cpuUsage(this.selfStart);
    out.self = (100 * (self.user + self.system)) / 1e6 / elapsed;
    return out;
  }
}

/** Median and p90 of write(4 KiB)+fsync on a file in the temp dir: what one SQLite group commit waits for at least. */
export function fsyncProbe(rounds = 50): { medianMs: number; p90Ms: number } {
  const dir = mkdtempSync(join(tmpdir(), "cellwallet-fsync-"));
  const fd = openSync(join(dir, "probe"), "w");
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, block, 0, block.length, (i % 16) * 4096);
      fsyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return {
    medianMs: times[Math.floor(times.length / 2)] ?? Number.NaN,
    p90Ms: times[Math.floor(times.length * 0.9)] ?? Number.NaN,
  };
}
