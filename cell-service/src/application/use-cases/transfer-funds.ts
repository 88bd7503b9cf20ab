import { cellHint, cellScopedId, parseAmount, problem } from "@cellwallet/contract";
import { post } from "../../domain/ledger-entry.js";
import { fail, ok } from "../../domain/result.js";
import { checkTransferable, type Transfer, transferWithinCell } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import { finalRecord, replay } from "../idempotency.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import type { Decision } from "../run-operation.js";
import { runOperation } from "../run-operation.js";
import { creditRequestFor, settleTransfer } from "../settle-transfer.js";
import { transferLocation, transferView } from "../views.js";
import { amountProblem } from "./amount-problem.js";
import { loadAuthorized, refusedLoad, walletNotFound } from "./load-wallet.js";

export interface TransferInput {
  fromWalletId: string;
  toWalletId: string;
  amount: unknown;
  reference?: string;
}

interface TransferIds {
  transferId: string;
  outTransactionId: string;
  inTransactionId: string;
}

/**
 * Moves money from the caller's wallet to another.
 * - Same cell: both entries, both wallets, the transfer and the outcome in one atomic write (201).
 * - Other cell: the debit, a PENDING transfer and a 202 outcome in one atomic write; then the
 *   destination is asked (through the router) to credit, idempotently by transfer id. Confirmed
 *   in time → COMPLETED (201); definitively refused → FAILED and refunded; otherwise 202 and
 *   the pending-transfer worker finishes it.
 */
export async function transferFunds(deps: CellDeps, ctx: OperationContext, input: TransferInput): Promise<ApiResponse> {
  const from = await loadAuthorized(deps, ctx, input.fromWalletId, "wallet:transfer-out");
  if (!from.ok) return refusedLoad(from, ctx.requestId);
  const amount = parseAmount(input.amount, from.wallet.currency);
  if (!amount.ok) return problemResponse(amountProblem(amount), ctx.requestId);
  const same = checkTransferable(input.fromWalletId, input.toWalletId);
  const stored = same.ok ? await deps.store.getWallet(input.toWalletId) : undefined;
  // A destination this cell gave away (moved) or never finished importing is not local: a moved one is
  // credited in its new cell like any cross-cell transfer. A frozen one stays local: the commit refuses it (503).
  const local =
    stored && (stored.ownership.state === "active" || stored.ownership.state === "frozen") ? stored : undefined;
  const movedTo = stored?.ownership.state === "moved" ? stored.ownership.peerCellId : undefined;
  // Only an id naming another cell can be a wallet elsewhere; anything else is unknown here and now,
  // answered before any money moves (no debit-and-refund pair for a mistyped id).
  const elsewhere = movedTo ?? cellHint(input.toWalletId);
  const remote = deps.creditor !== undefined && elsewhere !== undefined && elsewhere !== deps.cellId;
  if (same.ok && !local && !remote) return problemResponse(walletNotFound(input.toWalletId), ctx.requestId);

  const ids: TransferIds = {
    transferId: cellScopedId(deps.newId(), deps.cellId),
    outTransactionId: deps.newId(),
    inTransactionId: deps.newId(),
  };
  const reference = input.reference !== undefined ? { reference: input.reference } : {};
  let pendingTransfer: Transfer | undefined;

  return runOperation(deps, ctx, {
    type: local || !same.ok ? "transfer" : "transfer-cross-cell",
    walletIds: same.ok && local ? [input.fromWalletId, input.toWalletId] : [input.fromWalletId],
    known: same.ok && local ? [from.wallet, local] : [from.wallet],
    decide: ({ wallets, now }): Decision => {
      pendingTransfer = undefined; // decide may run again after a conflict: only the last run counts
      if (!same.ok) return same;
      const source = wallets.get(input.fromWalletId);
      if (!source) return fail(walletNotFound(input.fromWalletId));
      const destination = wallets.get(input.toWalletId);
      if (destination) return withinCell(source, destination, ids, amount.minor, ctx, reference, now);
      if (!remote) return fail(walletNotFound(input.toWalletId));
      const debited = debitForCrossCell(source, input.toWalletId, elsewhere, ids, amount.minor, ctx, reference, now);
      if (debited.ok) pendingTransfer = debited.pending;
      return debited.decision;
    },
    afterCommit: async (response) => {
      if (!pendingTransfer || !deps.creditor) return response;
      const pending = pendingTransfer;
      const answer = await deps.creditor.credit(creditRequestFor(deps, pending), ctx.requestId);
      if (answer.kind === "unavailable") return storedAnswer(deps, ctx, response);
      const settled = await settleTransfer(deps, pending, answer, {
        requestId: ctx.requestId,
        ...(ctx.idempotency
          ? {
              idempotency: {
                ticket: ctx.idempotency,
                respond: (t: Transfer) => settledResponse(t, answer, ctx.requestId),
              },
            }
          : {}),
      });
      // Our own final answer, stored in the settling write (its record was still provisional).
      if (settled.response) return settled.response;
      if (ctx.idempotency) return storedAnswer(deps, ctx, response);
      // Settled by someone else first (the worker): the answer is still the 202.
      if (!settled.settledNow || !settled.transfer) return response;
      return settledResponse(settled.transfer, answer, ctx.requestId);
    },
  });
}

/**
 * What the client is answered when this request did not store a final answer itself: the stored record,
 * made final as it stands (the 202 unless a replay raced us; either way what every replay will answer).
 */
async function storedAnswer(deps: CellDeps, ctx: OperationContext, fallback: ApiResponse): Promise<ApiResponse> {
  if (!ctx.idempotency) return fallback;
  const record = await finalRecord(deps.store, ctx.idempotency.scopeKey);
  if (!record) throw new Error("the transfer's idempotency record vanished");
  const { replayed: _thisIsTheRequest, ...stored } = replay(record);
  return stored;
}

function settledResponse(
  t: Transfer,
  answer: { kind: "credited" } | { kind: "refused"; code: "wallet-not-found" | "currency-mismatch"; detail: string },
  requestId: string,
): ApiResponse {
  if (answer.kind === "credited") return jsonResponse(201, transferView(t), transferLocation(t.transferId));
  return problemResponse(
    problem(answer.code, `${answer.detail}; transfer ${t.transferId} failed and the amount was refunded`, {
      transferId: t.transferId,
    }),
    requestId,
  );
}

function withinCell(
  source: Wallet,
  destination: Wallet,
  ids: TransferIds,
  amount: bigint,
  ctx: OperationContext,
  reference: { reference?: string },
  now: number,
): Decision {
  const moved = transferWithinCell(source, destination, { ...ids, amount, context: ctx.audit, ...reference }, now);
  if (!moved.ok) return moved;
  const { transfer, from: fromAfter, to: toAfter, entries } = moved.value;
  return ok({
    changes: {
      walletUpdates: [
        { wallet: fromAfter, expectedVersion: source.version, debit: amount },
        { wallet: toAfter, expectedVersion: destination.version },
      ],
      entries,
      transfers: [{ transfer }],
    },
    response: jsonResponse(201, transferView(transfer), transferLocation(transfer.transferId)),
  });
}

function debitForCrossCell(
  source: Wallet,
  toWalletId: string,
  destinationCellId: string | undefined,
  ids: TransferIds,
  amount: bigint,
  ctx: OperationContext,
  reference: { reference?: string },
  now: number,
): { ok: true; decision: Decision; pending: Transfer } | { ok: false; decision: Decision } {
  const debit = post(
    source,
    {
      transactionId: ids.outTransactionId,
      type: "TRANSFER_OUT",
      amount,
      transferId: ids.transferId,
      counterpartyWalletId: toWalletId,
      context: ctx.audit,
      ...reference,
    },
    now,
  );
  if (!debit.ok) return { ok: false, decision: debit };
  const pending: Transfer = {
    transferId: ids.transferId,
    fromWalletId: source.walletId,
    toWalletId,
    fromUserId: source.userId,
    amount,
    currency: source.currency,
    status: "PENDING",
    createdAt: debit.value.entry.createdAt,
    destinationCellId: destinationCellId ?? "unresolved",
    ...reference,
  };
  return {
    ok: true,
    pending,
    decision: ok({
      changes: {
        walletUpdates: [{ wallet: debit.value.wallet, expectedVersion: source.version, debit: amount }],
        entries: [debit.value.entry],
        transfers: [{ transfer: pending }],
      },
      response: jsonResponse(202, transferView(pending), transferLocation(pending.transferId)),
      // The credit is asked next: its answer may still replace this 202, unless a replay answers from it first.
      provisional: true,
    }),
  };
}
