import type { ChildProcess } from "node:child_process";

/** Polls /ready until 200 (or an evacuated router's 503); fails when the process exits first or after 30 s. */
export async function waitReady(url: string, child: ChildProcess, output: () => string = () => ""): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.exitCode ?? child.signalCode;
      throw new Error(`${url}: process exited with ${how}${output() ? `: ${output()}` : ""}`);
    }
    try {
      // Bounded: something else holding the port (accepting, never answering) must not hang the start.
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      // A router whose AZ is evacuated in the registry is up but reports itself out of service.
      if (res.status === 503 && ((await res.json()) as { status?: string }).status === "evacuated") return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
