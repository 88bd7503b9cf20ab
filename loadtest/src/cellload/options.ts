/**
 * Parsing of cellload's command-line values (durations, rates, ramps, URLs).
 * Pure: every function throws a UsageError with a one-line message, which the
 * CLI prints as is and exits 2.
 */

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** "30s", "2m", "1h", "500ms" or plain seconds ("20") → milliseconds. */
export function parseDuration(text: string, what = "duration"): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${what} must look like 30s, 2m, 1h or 500ms, got ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"] ?? 1000;
  const ms = Math.round(Number(match[1]) * unit);
  if (!(ms > 0)) throw new UsageError(`${what} must be greater than zero, got ${JSON.stringify(text)}`);
  return ms;
}

/** "100", "100/s", "6000/m" → iterations per second (> 0). */
export function parseRate(text: string, what = "--rate"): number {
  const match = /^(-?[0-9]+(?:\.[0-9]+)?)(?:\/(s|m))?$/.exec(text.trim());
  if (!match)
    throw new UsageError(
      `${what} must be a number of iterations per second such as 100 or 100/s (or per minute: 5/m), got ${JSON.stringify(text)}`,
    );
  const value = Number(match[1]) / (match[2] === "m" ? 60 : 1);
  if (!(value > 0) || !Number.isFinite(value))
    throw new UsageError(`${what} must be greater than zero, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * A rate for people, in the form --rate accepts: "20/s", "0.5/s", and "5/m" for a whole number per minute below
 * 1/s (never "0.08333333333333333/s").
 */
export function formatRate(perSecond: number): string {
  const perMinute = perSecond * 60;
  const wholePerMinute = Math.abs(perMinute - Math.round(perMinute)) < 1e-6;
  const shortPerSecond = Math.abs(perSecond * 100 - Math.round(perSecond * 100)) < 1e-6;
  if (perSecond < 1 && wholePerMinute && !shortPerSecond) return `${Math.round(perMinute)}/m`;
  return `${perSecond < 1 ? Number(perSecond.toPrecision(3)) : Math.round(perSecond * 100) / 100}/s`;
}

export function parsePositiveInteger(text: string, what: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** One stage of a ramping arrival rate: the rate moves linearly to `target` over `durationMs`. */
export interface RampStage {
  durationMs: number;
  target: number;
}

/** "30s:100,1m:500,30s:0" → stages (k6's `stages` in one flag; a target may be 0 to ramp down). */
export function parseRamp(text: string): RampStage[] {
  const parts = text.split(",").map((p) => p.trim());
  // An empty stage ("2s:5," or "2s:5,,1s:0") is a typo, not a stage to skip: the ramp would not be what was meant.
  if (parts.some((p) => p.length === 0))
    throw new UsageError(`--ramp needs stages such as 30s:100,1m:500, got ${JSON.stringify(text)}`);
  return parts.map((part) => {
    const [duration, target, ...rest] = part.split(":");
    if (duration === undefined || target === undefined || rest.length > 0) {
      throw new UsageError(`--ramp stage must be <duration>:<rate>, e.g. 30s:100, got ${JSON.stringify(part)}`);
    }
    const rate = Number(target.replace(/\/s$/, ""));
    if (!/^[0-9]+(\.[0-9]+)?(\/s)?$/.test(target) || !Number.isFinite(rate)) {
      throw new UsageError(`--ramp stage rate must be a non-negative number, got ${JSON.stringify(part)}`);
    }
    return { durationMs: parseDuration(duration, "--ramp stage duration"), target: rate };
  });
}

/**
 * An http(s) URL without query or fragment, returned without a trailing slash, nor a trailing /api/v1: the API URL
 * `npm start` prints names the same router, and cellload adds the paths itself.
 */
export function parseTargetUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--target must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--target must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.search || url.hash) throw new UsageError("--target must not carry a query or fragment");
  return url.href.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
}

const CELL_ID = /^[a-z0-9-]{1,40}$/;

export function parseCellId(text: string): string {
  if (!CELL_ID.test(text))
    throw new UsageError(`--cell must be a cell id (1..40 of a-z 0-9 -), got ${JSON.stringify(text)}`);
  return text;
}
