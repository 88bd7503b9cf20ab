import type { Recorder } from "./recorder.js";

/** The live progress line on a terminal (stderr, redrawn in place once a second). */
export function startProgress(recorder: Recorder, totalMs: number | undefined, inFlight: () => number): () => void {
  const stream = process.stderr;
  if (!stream.isTTY) return () => undefined;
  let lastTotal = 0;
  let lastFailed = 0;
  let lastAt = performance.now();
  const draw = () => {
    const elapsed = recorder.elapsedSeconds();
    const { total, failed } = recorder.failed({});
    const now = performance.now();
    const rate = ((total - lastTotal) * 1000) / Math.max(1, now - lastAt);
    const d = recorder.durations({});
    const remaining =
      totalMs === undefined
        ? ""
        : ` / ${(totalMs / 1000).toFixed(0)} s, ${Math.max(0, totalMs / 1000 - elapsed).toFixed(0)} s left`;
    const line =
      `[${elapsed.toFixed(0)} s${remaining}] ${rate.toFixed(1)} req/s` +
      `  p50 ${d ? d.percentile(50).toFixed(1) : "-"} ms  p99 ${d ? d.percentile(99).toFixed(1) : "-"} ms` +
      `  failed ${failed} (+${failed - lastFailed})  in flight ${inFlight()}`;
    stream.write(`\r\u001b[2K${line}`);
    lastTotal = total;
    lastFailed = failed;
    lastAt = now;
  };
  const timer = setInterval(draw, 1000);
  return () => {
    clearInterval(timer);
    stream.write("\r\u001b[2K");
  };
}
