import { http } from "../../test-support/http.js";

/** One answer a bank client got for one attempt. */
export interface FaultAnswer {
  sender: string;
  atMs: number;
  router: number;
  status: number | "network-error";
  retryAfter: string | null;
}

export interface SentTransfer {
  key: string;
  status?: number;
  transferId?: string;
}

/**
 * Bank clients, one per sender: transfers of a few cents to the other users
 * (same-cell and cross-cell alike), each retried with the same Idempotency-Key
 * on 503, 409 (the same key still in flight) or a dropped connection until a
 * final answer, trying the next AZ's router on each retry.
 */
export function bankClients(input: {
  routers: readonly string[];
  users: readonly string[];
  wallets: ReadonlyMap<string, string>;
  tokens: ReadonlyMap<string, string>;
  keyPrefix: string;
}) {
  const answers: FaultAnswer[] = [];
  const sent: SentTransfer[] = [];
  let running = true;
  const loops = input.users.map(async (sender, i) => {
    for (let n = 0; running; n++) {
      const to = input.users[(i + 1 + (n % (input.users.length - 1))) % input.users.length] as string;
      const s: SentTransfer = { key: `${input.keyPrefix}-${sender}-${n}` };
      sent.push(s);
      // Until a deadline, not a number of attempts: on a loaded machine a restarted cell can take longer than
      // 400 quick retries to come back.
      const deadline = Date.now() + 60_000;
      for (let attempt = 0; ; attempt++) {
        const router = (i + attempt) % input.routers.length;
        let answer: FaultAnswer;
        try {
          const res = await http(input.routers[router] as string, "POST", "/api/v1/wallets/transfer", {
            token: input.tokens.get(sender) as string,
            idempotencyKey: s.key,
            body: {
              fromWalletId: input.wallets.get(sender),
              toWalletId: input.wallets.get(to),
              amount: `0.${String(1 + ((i * 7 + n) % 50)).padStart(2, "0")}`,
            },
          });
          answer = { sender, atMs: Date.now(), router, status: res.status, retryAfter: res.headers.get("retry-after") };
          if (res.status === 201 || res.status === 202) s.transferId = res.body.transferId;
        } catch {
          answer = { sender, atMs: Date.now(), router, status: "network-error", retryAfter: null };
        }
        answers.push(answer);
        if (answer.status !== 503 && answer.status !== 409 && answer.status !== "network-error") {
          s.status = answer.status as number;
          break;
        }
        if (Date.now() > deadline) throw new Error(`no final answer for ${s.key}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    answers,
    sent,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}
