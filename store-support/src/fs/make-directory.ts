import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * `mkdir -p`, one level at a time. Node's own `mkdirSync(path, { recursive: true })` never returns for a path
 * under /proc or /sys (Node 22/24): mkdir there fails with ENOENT although the parent exists, and Node's loop
 * creates the parent and tries again forever. A user's `--out /proc/x` then hung the CLI at full CPU; here the
 * same mistake is the ENOENT error, which the CLIs print as one line.
 */
export function makeDirectory(path: string): void {
  const missing: string[] = [];
  for (let dir = resolve(path); !existsSync(dir); dir = dirname(dir)) missing.unshift(dir);
  // An existing file where the directory should be: mkdir's own EEXIST says so, as the recursive mkdir did.
  if (missing.length === 0 && !statSync(path).isDirectory()) mkdirSync(path);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      // Another process may have created it meanwhile (two replicas starting together): that is success.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
