import { cellHint } from "@cellwallet/contract";
import type { BenchWallet } from "../bench/bench-types.js";
import type { Books, MoneyOp } from "../bench/book.js";
import { type Answer, type LoadClient, problemCode } from "./client.js";
import type { Recorder } from "./recorder.js";

/**
 * What a scenario is: a TypeScript module (built in, or a file a user passes by
 * path) exporting `scenario` with this shape. One call of `iteration` is one
 * arrival of the open model (or one loop of a closed-model virtual user); it may
 * send several requests through `it.request`, each with its checks.
 */
export interface Scenario {
  name: string;
  /** One line for `cellload scenarios`. */
  description: string;
  /** Moves money: --verify is on by default and every money request goes through the books. */
  money: boolean;
  /** Onboards brand-new users (ctx.freshUser): impossible with a token file's fixed users. */
  newUsers?: boolean;
  /** Needs wallets in a second cell (cross-cell transfers). */
  crossCell?: "required" | "optional";
  iteration(ctx: ScenarioContext, it: Iteration): Promise<void>;
}

/** A virtual user: a user with a wallet and the user's own token. */
export interface VirtualUser extends BenchWallet {
  cellId: string;
}

export interface RequestSpec {
  /** The `op` tag (deposit, transfer, get-wallet, ...). */
  op: string;
  method: "GET" | "POST";
  path: string;
  token: string;
  body?: string;
  /** Money operations: tracked in the books, sent with op.key as Idempotency-Key. */
  money?: MoneyOp;
  /** Other POSTs may still carry a key (wallet creation). */
  idempotencyKey?: string;
  /** The `cell` tag: the cell the request is meant for. */
  cell: string;
  /** Statuses that are a correct answer (default [200, 201]); a 4xx here must also carry one of `codes` if given. */
  expect?: number[];
  /** Problem codes accepted with an expected 4xx, e.g. ["insufficient-funds"]. */
  codes?: string[];
}

export interface ScenarioContext {
  /** The run's virtual users (wallets created and, for money scenarios, funded in setup). */
  vus: VirtualUser[];
  /** The cell given with --cell (every virtual user is placed there); undefined when placement chose. */
  drivenCell: string | undefined;
  /**
   * Wallets to pay across cells: only those in another cell than the payer will do (see crossCellPair). Without
   * --cell through a router they are the virtual users themselves (placement spread them); empty when none exist.
   */
  counterparties: VirtualUser[];
  /** Seeded per run: the same seed gives the same mix. */
  random(): number;
  books: Books;
  operatorToken: string;
  /** A user id never used before, already pinned to the driven cell when --cell goes through the placement store. */
  freshUser(): Promise<string>;
  /** Mints (or reads from --token-file) the token of a user. */
  tokenFor(userId: string): Promise<string>;
  /** A new Idempotency-Key unique to the run. */
  newKey(kind: string): string;
}

export interface Iteration {
  request(spec: RequestSpec): Promise<Answer>;
}

/** Money amount helpers scenarios share: amounts in minor units (cents). */
export const pick = <T>(random: () => number, items: readonly T[]): T => {
  if (items.length === 0) throw new Error("pick from an empty list");
  return items[Math.floor(random() * items.length)] as T;
};

export const cellOf = (walletId: string): string => cellHint(walletId) ?? "unknown";

/**
 * One iteration's request path: the first request's latency counts from the
 * iteration's intended start (open model), the others from their own send.
 */
export class MeasuredIteration implements Iteration {
  private first = true;

  constructor(
    private readonly client: LoadClient,
    private readonly recorder: Recorder,
    private readonly books: Books,
    private readonly intendedAt: number | undefined,
  ) {}

  async request(spec: RequestSpec): Promise<Answer> {
    const sentAt = performance.now();
    const from = this.first && this.intendedAt !== undefined ? Math.min(this.intendedAt, sentAt) : sentAt;
    if (this.first && this.intendedAt !== undefined) this.recorder.lag(sentAt - from);
    this.first = false;
    if (spec.money) this.books.track(spec.money);
    const key = spec.money?.key ?? spec.idempotencyKey;
    const answer = await this.client.send(spec.method, spec.path, spec.token, {
      ...(spec.body !== undefined ? { body: spec.body } : {}),
      ...(key !== undefined ? { idempotencyKey: key } : {}),
    });
    const done = performance.now();
    if (spec.money && answer.status !== 0) this.books.answer(spec.money.key, answer.status, answer.text);
    const expect = spec.expect ?? [200, 201];
    const code = answer.status >= 400 ? problemCode(answer.text) : undefined;
    const statusOk =
      expect.includes(answer.status) &&
      (answer.status < 400 || spec.codes === undefined || spec.codes.includes(code ?? "-"));
    this.recorder.record({
      op: spec.op,
      cell: spec.cell,
      durationMs: answer.status === 0 ? undefined : done - from,
      failed: !statusOk,
      checksPassed: statusOk ? 1 : 0,
      checksTotal: 1,
      ...(answer.status === 0
        ? { status: `error ${answer.error ?? "?"}` }
        : answer.status >= 300
          ? { status: `${answer.status} ${code}` }
          : {}),
    });
    return answer;
  }
}
