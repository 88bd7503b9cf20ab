import type { Problem } from "@cellwallet/contract";
import type { Fence } from "../domain/ownership.js";
import type { Result } from "../domain/result.js";
import type { Wallet } from "../domain/wallet.js";
import { type ApiResponse, fencedResponse, problemResponse } from "./api-response.js";
import { answerFromRecord, finalRecord, lookup, recordFor } from "./idempotency.js";
import type { Changes, DecisionState } from "./ledger-store.js";
import type { CellDeps, OperationContext } from "./operation-context.js";

/**
 * A use case's decision: what to change and what to answer, or a business refusal. `provisional`: the
 * answer is stored as provisional, and afterCommit settles it (a cross-cell transfer's 202).
 */
export type Decision = Result<{ changes: Changes; response: ApiResponse; provisional?: boolean }>;

export interface Operation {
  /** Metrics label: create-wallet, deposit, withdraw, transfer. */
  type: string;
  walletIds: string[];
  /** Wallets of walletIds read moments ago (authorisation): see CommitRequest.known. */
  known?: readonly Wallet[];
  decide(state: DecisionState): Decision;
  /**
   * Runs after this request's own commit (not on replays), still holding the
   * Idempotency-Key, and may replace the answer (a cross-cell transfer confirmed
   * in time becomes 201) as long as its stored record is provisional: it must end
   * by making the record final (finalRecord) and answering what is stored.
   */
  afterCommit?(response: ApiResponse): Promise<ApiResponse>;
  /** Answer when the store refused a second wallet for the user (a fence: the user's wallet moved away). */
  onUserHasWallet?(): Promise<Problem | { fence: Fence }>;
}

const isProblem = (v: ApiResponse | Problem): v is Problem => "code" in v;

/**
 * The router re-forwards a request to the cell a Wallet-Location names, so that header may only name where
 * the request's own wallet (the first of `walletIds`, the one it is routed by) went. A counterparty that
 * moved away (a same-cell transfer's destination, moved between the use case's read and the commit) is
 * answered with a plain 503: the client's retry sees the move and credits the new cell cross-cell.
 */
function addressedFence(fence: Fence, op: Operation): Fence {
  const addressed = op.walletIds[0];
  if (fence.walletId === undefined || addressed === undefined || fence.walletId === addressed) return fence;
  const { movedTo: _counterpartysCell, ...withoutLocation } = fence;
  return withoutLocation;
}

/**
 * Runs a state-changing operation exactly once per Idempotency-Key: answers a
 * repeat from the stored outcome, otherwise commits the changes together with
 * the outcome in one atomic write. Business refusals are stored too.
 */
export async function runOperation(deps: CellDeps, ctx: OperationContext, op: Operation): Promise<ApiResponse> {
  const ticket = ctx.idempotency;
  const answer = (r: ApiResponse | Problem) => (isProblem(r) ? problemResponse(r, ctx.requestId) : r);
  if (!ticket) return run(deps, ctx, op);

  const busy = deps.inFlight.enter(ticket);
  if (busy) {
    deps.onOperation?.(op.type, "conflict");
    return problemResponse(busy, ctx.requestId);
  }
  try {
    const stored = await lookup(deps.store, ticket);
    if (stored) {
      // A stored answer is replayed; a problem here is the key reused for a different request (422).
      deps.onOperation?.(op.type, isProblem(stored) ? "conflict" : "replayed");
      return answer(stored);
    }
    return await run(deps, ctx, op);
  } finally {
    deps.inFlight.leave(ticket);
  }
}

async function run(deps: CellDeps, ctx: OperationContext, op: Operation): Promise<ApiResponse> {
  const ticket = ctx.idempotency;
  const withRecord = (changes: Changes, response: ApiResponse, now: number, provisional = false): Changes =>
    ticket
      ? {
          ...changes,
          idempotency: recordFor(ticket, response, now, changes.newWallet?.walletId ?? op.walletIds[0], provisional),
        }
      : changes;

  const outcome = await deps.store.commit({
    walletIds: op.walletIds,
    ...(op.known ? { known: op.known } : {}),
    decide: (state) => {
      const decision = op.decide(state);
      const response = decision.ok ? decision.value.response : problemResponse(decision.problem, ctx.requestId);
      const changes = decision.ok ? decision.value.changes : {};
      const provisional = decision.ok && decision.value.provisional === true;
      const code = decision.ok ? undefined : decision.problem.code;
      return { changes: withRecord(changes, response, state.now, provisional), result: { response, code } };
    },
  });

  if (outcome.ok) {
    const refusedWith = outcome.result.code;
    deps.onOperation?.(op.type, refusedWith === undefined ? "ok" : "refused", refusedWith);
    if (refusedWith === undefined && op.afterCommit) return op.afterCommit(outcome.result.response);
    return outcome.result.response;
  }
  if (outcome.reason === "fenced") {
    // A stored answer wins over a fence: the key's record may have been written (here, before the wallet
    // moved) after the replay check read it.
    const record = ticket ? await finalRecord(deps.store, ticket.scopeKey) : undefined;
    if (ticket && record) {
      const answer = answerFromRecord(ticket, record);
      deps.onOperation?.(op.type, "code" in answer ? "conflict" : "replayed");
      return "code" in answer ? problemResponse(answer, ctx.requestId) : answer;
    }
    deps.onOperation?.(op.type, "fenced");
    return fencedResponse(addressedFence(outcome.fence, op), ctx.requestId);
  }
  if (outcome.reason === "idempotency-exists" && ticket) {
    // Another process committed this key first: answer as it did.
    const record = await finalRecord(deps.store, ticket.scopeKey);
    if (!record) throw new Error("idempotency record vanished after a conflict");
    const answer = answerFromRecord(ticket, record);
    deps.onOperation?.(op.type, "code" in answer ? "conflict" : "replayed");
    return "code" in answer ? problemResponse(answer, ctx.requestId) : answer;
  }
  if (outcome.reason === "user-has-wallet" && op.onUserHasWallet) {
    const taken = await op.onUserHasWallet();
    if ("fence" in taken) return fencedResponse(taken.fence, ctx.requestId);
    const refusal = problemResponse(taken, ctx.requestId);
    deps.onOperation?.(op.type, "refused", taken.code);
    if (!ticket) return refusal;
    const stored = await deps.store.commit({
      walletIds: [],
      decide: (state) => ({ changes: withRecord({}, refusal, state.now), result: refusal }),
    });
    if (stored.ok) return stored.result;
    const record = await finalRecord(deps.store, ticket.scopeKey);
    if (!record) throw new Error("idempotency record vanished after a conflict");
    const answer = answerFromRecord(ticket, record);
    return "code" in answer ? problemResponse(answer, ctx.requestId) : answer;
  }
  throw new Error(`unexpected commit outcome ${outcome.reason}`);
}
