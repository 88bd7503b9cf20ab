/** RFC 3339 with any offset and optional fraction; outputs are always UTC `Z` with milliseconds. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp into epoch milliseconds (sub-millisecond digits are
 * truncated, which keeps "entry at .123 <= T at .123456" true). Undefined when malformed.
 */
export function parseTimestamp(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  const millis = frac ? Number(frac.slice(1, 4).padEnd(3, "0")) : 0;
  let epoch = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    // Date.UTC maps years 0..99 to 1900..1999.
    const date = new Date(epoch);
    date.setUTCFullYear(year);
    epoch = date.getTime();
  }
  if (offset && offset.toUpperCase() !== "Z") {
    const sign = offset.startsWith("-") ? -1 : 1;
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    epoch -= sign * (oh * 60 + om) * 60_000;
  }
  return Number.isFinite(epoch) ? epoch : undefined;
}

export function formatTimestamp(epochMillis: number): string {
  return new Date(epochMillis).toISOString();
}
