import { ChainVerifier, minorFromFormatted } from "@cellwallet/contract";
import { expect } from "vitest";
import { http } from "../../test-support/http.js";

/**
 * The books after a transfer workload, shared by the end-to-end tests that
 * run one (process kills, rollouts): every acknowledged transfer reaches a final
 * state, and then exactly one debit and one credit or one refund per
 * acknowledged transfer, none for any other, money conserved, no negative
 * balance, every chain valid (offline and by the cell's /audit).
 */

/** Waits until every transfer is COMPLETED or FAILED (the pending-transfer workers finish them); their final status. */
export async function finalTransferStatuses(
  api: string,
  auditor: string,
  transferIds: string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  const finalStatus = new Map<string, string>();
  for (const transferId of transferIds) {
    for (;;) {
      const t = await http(api, "GET", `/api/v1/transfers/${transferId}`, { token: auditor });
      if (t.status === 200 && t.body.status !== "PENDING") {
        finalStatus.set(transferId, t.body.status);
        break;
      }
      if (Date.now() > deadline) throw new Error(`transfer ${transferId} still ${t.body?.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return finalStatus;
}

/** Asserts the books of `walletIds` (USD) hold `expectedTotal` and apply each acknowledged transfer exactly once. */
export async function expectTransferBooks(
  api: string,
  auditor: string,
  walletIds: string[],
  expectedTotal: bigint,
  finalStatus: ReadonlyMap<string, string>,
): Promise<void> {
  let total = 0n;
  const outs = new Map<string, number>();
  const ins = new Map<string, number>();
  const refunds = new Map<string, number>();
  for (const walletId of walletIds) {
    const wallet = await http(api, "GET", `/api/v1/wallets/${walletId}`, { token: auditor });
    total += minorFromFormatted(wallet.body.balance, "USD");
    const entries: { type: string; balanceAfter: string; transferId?: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof http>> = await http(
        api,
        "GET",
        `/api/v1/wallets/${walletId}/transactions?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        { token: auditor },
      );
      entries.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    const verifier = new ChainVerifier(minorFromFormatted);
    for (const e of [...entries].reverse()) {
      verifier.add(e as never);
      expect(minorFromFormatted(e.balanceAfter, "USD")).toBeGreaterThanOrEqual(0n);
      const count = (m: Map<string, number>) => m.set(e.transferId as string, (m.get(e.transferId as string) ?? 0) + 1);
      if (e.type === "TRANSFER_OUT") count(outs);
      if (e.type === "TRANSFER_IN") count(ins);
      if (e.type === "TRANSFER_REFUND") count(refunds);
    }
    expect(verifier.result().valid).toBe(true);
    expect(verifier.balance).toBe(minorFromFormatted(wallet.body.balance, "USD"));
    expect((await http(api, "GET", `/api/v1/wallets/${walletId}/audit`, { token: auditor })).body.valid).toBe(true);
  }
  expect(total).toBe(expectedTotal);
  for (const [id, status] of finalStatus) {
    expect(outs.get(id)).toBe(1);
    if (status === "COMPLETED") {
      expect(ins.get(id)).toBe(1);
      expect(refunds.get(id)).toBeUndefined();
    } else {
      expect(ins.get(id)).toBeUndefined();
      expect(refunds.get(id)).toBe(1);
    }
  }
  // No entry belongs to a transfer nobody was told about.
  expect([...outs.keys()].sort()).toEqual([...finalStatus.keys()].sort());
}
