import type { ChildProcess } from "node:child_process";
import { INSTANCE_HEADER } from "@cellwallet/contract";
import { failureLine } from "./failure-line.js";

export interface ReadyProbe {
  /** The process's /ready, e.g. http://127.0.0.1:9100/ready. */
  url: string;
  child: ChildProcess;
  /** The id the process was launched with (CELLWALLET_INSTANCE): only an answer carrying it is this process's. */
  instance: string;
  /** What the process wrote on stderr so far: its last line says why it failed. */
  output?: () => string;
  timeoutMs?: number;
  /** How long one probe may wait for an answer (default 2 s). */
  probeTimeoutMs?: number;
}

/** The port answers as another process (or our process could not bind it): the launch is not ready, ever. */
export class PortTakenError extends Error {}

type Answer = { status: number; instance: string | null; body: string } | "exited" | undefined;

/**
 * Polls /ready until THIS process answers 200 (or an evacuated router's 503), proven by the instance id it
 * echoes in the Cellwallet-Instance header. Any other answer on the port is another process's (another
 * platform holding the port): the launch fails at once rather than report someone else's process as ours.
 * Fails at once, with its stderr's failure line, when the process exits first; and after timeoutMs (30 s).
 */
export async function waitReady(probe: ReadyProbe): Promise<void> {
  const { url, child, instance } = probe;
  const deadline = Date.now() + (probe.timeoutMs ?? 30_000);
  const exited = whenExited(child);
  for (;;) {
    // Bounded: something else holding the port (accepting, never answering) must not hang the start.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), probe.probeTimeoutMs ?? 2000);
    const answer: Answer = await Promise.race([ask(url, abort.signal), exited.then(() => "exited" as const)]);
    clearTimeout(timer);
    abort.abort();
    if (answer === "exited") throw exitError(url, child, probe.output?.() ?? "");
    if (answer !== undefined) {
      if (answer.instance !== instance) {
        throw new PortTakenError(
          `${url} is answered by another process, not the one just started (no matching ${INSTANCE_HEADER} header)`,
        );
      }
      if (answer.status === 200) return;
      // A router whose AZ is evacuated in the registry is up but reports itself out of service.
      if (answer.status === 503 && statusOf(answer.body) === "evacuated") return;
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not become ready in ${(probe.timeoutMs ?? 30_000) / 1000} s`);
    await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
  }
}

async function ask(url: string, signal: AbortSignal): Promise<Answer> {
  try {
    const res = await fetch(url, { signal });
    return { status: res.status, instance: res.headers.get(INSTANCE_HEADER), body: await res.text() };
  } catch {
    return undefined; // not listening yet, or no answer within the bound
  }
}

function statusOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { status?: unknown }).status;
  } catch {
    return undefined;
  }
}

/** Resolves once the process has exited and its output is read (its stderr's end says why), at most 1 s later. */
function whenExited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    let closed = false;
    child.once("close", () => {
      closed = true;
      resolve();
    });
    const onExit = () => setTimeout(resolve, closed ? 0 : 1000).unref();
    if (child.exitCode !== null || child.signalCode !== null) onExit();
    else child.once("exit", onExit);
  });
}

function exitError(url: string, child: ChildProcess, output: string): Error {
  const how = child.exitCode ?? child.signalCode;
  const line = failureLine(output);
  const message = `${url}: the process exited with ${how} before it was ready${line ? `: ${line}` : ""}`;
  return /EADDRINUSE/.test(line) ? new PortTakenError(message) : new Error(message);
}
