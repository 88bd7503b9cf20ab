import { http } from "../../test-support/http.js";

/** One answer a client got: which user, when, what status, and whether a 503 said when to retry. */
export interface Answer {
  user: string;
  atMs: number;
  status: number | "network-error";
  retryAfter: string | null;
}

/**
 * Careful clients, one per user: each deposits 0.01 in a loop and retries a
 * refused or dropped request with the same Idempotency-Key until it gets a
 * final answer, so every acknowledged deposit must be applied exactly once.
 */
export function depositClients(
  routers: readonly string[],
  users: ReadonlyMap<string, { walletId: string; token: string }>,
) {
  const answers: Answer[] = [];
  const acknowledged = new Map<string, number>();
  let running = true;
  const loops = [...users.entries()].map(async ([user, { walletId, token }], i) => {
    for (let n = 0; running; n++) {
      const key = `${user}-dep-${n}`;
      for (let attempt = 0; ; attempt++) {
        const router = routers[(i + attempt) % routers.length] as string;
        let answer: Answer;
        try {
          const res = await http(router, "POST", `/api/v1/wallets/${walletId}/deposit`, {
            token,
            idempotencyKey: key,
            body: { amount: "0.01" },
          });
          answer = { user, atMs: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after") };
        } catch {
          answer = { user, atMs: Date.now(), status: "network-error", retryAfter: null };
        }
        answers.push(answer);
        if (answer.status === 201) {
          acknowledged.set(user, (acknowledged.get(user) ?? 0) + 1);
          break;
        }
        if (answer.status !== 503 && answer.status !== "network-error") break; // a final refusal: the test fails on it
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    answers,
    acknowledged,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** From the first to the last non-201 answer of these users (ms), or 0 when every answer was 201. */
export function unavailabilityWindowMs(answers: readonly Answer[], users: ReadonlySet<string>): number {
  const failed = answers.filter((a) => users.has(a.user) && a.status !== 201);
  if (failed.length === 0) return 0;
  return Math.max(...failed.map((a) => a.atMs)) - Math.min(...failed.map((a) => a.atMs));
}
