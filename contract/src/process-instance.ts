/**
 * Which launch of a process answers. A launcher (npm start) gives every process it starts a fresh random id
 * in CELLWALLET_INSTANCE; the cell and the router echo it in this header on /health and /ready, so the
 * launcher accepts a readiness answer only from the process it started, never from another platform's
 * process that happens to hold the port. Public information, not a secret.
 */
export const INSTANCE_ENV = "CELLWALLET_INSTANCE";
export const INSTANCE_HEADER = "Cellwallet-Instance";

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The process's instance id from its environment; undefined when unset (a process nobody launched with one). */
export function instanceIdFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env[INSTANCE_ENV];
  if (raw === undefined || raw === "") return undefined;
  if (!INSTANCE_ID.test(raw)) throw new Error(`${INSTANCE_ENV} must be 1..64 of A-Z a-z 0-9 . _ -, got ${raw}`);
  return raw;
}
