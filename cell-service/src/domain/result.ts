import type { Problem } from "@cellwallet/contract";

/** Errors a caller must handle are values, not exceptions. */
export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(problem: Problem): Result<T> => ({ ok: false, problem });
