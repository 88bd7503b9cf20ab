import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  CellwalletClient,
  ProblemError,
  type Transaction,
  type Transfer,
  verifyEntries,
  type Wallet,
} from "@cellwallet/client";
import { minorFromFormatted } from "@cellwallet/contract";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform } from "../../e2e/test/platform.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { token } from "../../test-support/tokens.js";

/**
 * The client against a real local platform (2 cells, their router, the placement registry, cellctl), as an
 * application would use it: the whole journey, offline verification of a long chain, and a user migration in
 * the middle of a client's retries.
 */
describe("@cellwallet/client against a running platform", () => {
  let platform: LocalPlatform;
  let router: string;
  const tokens = { alice: "", ops: "", auditor: "", mover: "" };
  const clientOf = (who: keyof typeof tokens, extra: Partial<ConstructorParameters<typeof CellwalletClient>[0]> = {}) =>
    new CellwalletClient({ baseUrl: router, token: tokens[who], ...extra });

  beforeAll(async () => {
    platform = await startTestPlatform({ cells: 2, azs: ["az-1"] });
    router = platform.routerUrl("az-1");
    const placement = platform.openPlacementStore();
    // alice in cell-1 and bob in cell-2: the transfer is cross-cell; the mover starts in cell-1.
    await placement.setOverride("alice", "cell-1");
    await placement.setOverride("bob", "cell-2");
    await placement.setOverride("mover", "cell-1");
    await placement.setOverride("chain-user", "cell-2");
    await placement.close();
    tokens.alice = await token("alice");
    tokens.mover = await token("mover");
    tokens.ops = await token("ops", "wallet:operator");
    tokens.auditor = await token("auditor-1", "wallet:auditor");
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("runs the journey: wallets, money, a cross-cell transfer, history, balances, audit, typed refusals", async () => {
    const alice = clientOf("alice");
    const ops = clientOf("ops");
    const wallet = await alice.getOrCreateWallet({ userId: "alice" });
    expect(wallet).toMatchObject({ userId: "alice", currency: "USD", balance: "0.00", version: 0 });
    expect((await alice.getOrCreateWallet({ userId: "alice" })).walletId).toBe(wallet.walletId);
    const bob = await ops.createWallet({ userId: "bob" });

    const salary = await alice.depositWritten(
      wallet.walletId,
      { amount: "100.00", reference: "salary" },
      { idempotencyKey: "salary-2026-11" },
    );
    expect([salary.status, salary.replayed, salary.value.balanceAfter]).toEqual([201, false, "100.00"]);
    const again = await alice.depositWritten(
      wallet.walletId,
      { amount: "100.00", reference: "salary" },
      { idempotencyKey: "salary-2026-11" },
    );
    expect([again.replayed, again.value]).toEqual([true, salary.value]);
    await alice.withdraw(wallet.walletId, { amount: "12.50" });

    const refused = await alice.withdraw(wallet.walletId, { amount: "1000.00" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProblemError);
    expect([(refused as ProblemError).status, (refused as ProblemError).code]).toEqual([422, "insufficient-funds"]);
    const tooPrecise = await alice.deposit(wallet.walletId, { amount: "1.005" }).catch((e: unknown) => e);
    expect((tooPrecise as ProblemError).code).toBe("amount-precision");
    const exists = await ops.createWallet({ userId: "alice" }).catch((e: unknown) => e);
    expect((exists as ProblemError).code).toBe("wallet-already-exists");

    const transfer: Transfer = await alice.transferAndWait({
      fromWalletId: wallet.walletId,
      toWalletId: bob.walletId,
      amount: "20.00",
      reference: "rent",
    });
    expect(transfer).toMatchObject({ status: "COMPLETED", amount: "20.00", reference: "rent" });
    expect((await alice.getTransfer(transfer.transferId)).status).toBe("COMPLETED");
    expect((await ops.getWallet(bob.walletId)).balance).toBe("20.00");

    const history: Transaction[] = [];
    for await (const entry of alice.transactions(wallet.walletId)) history.push(entry);
    expect(history.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([
      ["TRANSFER_OUT", "20.00", "67.50"],
      ["WITHDRAWAL", "12.50", "87.50"],
      ["DEPOSIT", "100.00", "100.00"],
    ]);
    const firstPage = await alice.listTransactions(wallet.walletId, { limit: "1" });
    expect(firstPage.items).toEqual([history[0]]);
    const secondPage = await alice.listTransactions(wallet.walletId, {
      limit: "1",
      cursor: firstPage.nextCursor ?? "",
    });
    expect(secondPage.items).toEqual([history[1]]);
    expect(await alice.getTransaction(wallet.walletId, salary.value.transactionId)).toEqual(salary.value);

    const atSalary = await alice.historicalBalance(wallet.walletId, salary.value.createdAt);
    expect([atSalary.balance, atSalary.sequence]).toEqual(["100.00", 1]);
    expect((await alice.historicalBalance(wallet.walletId, new Date())).balance).toBe("67.50");

    const audit = await clientOf("auditor").audit(wallet.walletId);
    const offline = await alice.verifyWalletChain(wallet.walletId);
    expect(offline).toMatchObject({ valid: true, entries: 3, matchesWallet: true, headHash: audit.headHash });
    expect(audit.valid).toBe(true);
  }, 90_000);

  it("verifies a wallet with hundreds of entries offline, and points at a tampered one", async () => {
    const ops = clientOf("ops");
    const wallet = await ops.createWallet({ userId: "chain-user" });
    const amounts = Array.from({ length: 320 }, (_, i) => `${1 + (i % 50)}.${String(i % 100).padStart(2, "0")}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < amounts.length) {
          const amount = amounts[next++] as string;
          await ops.deposit(wallet.walletId, { amount });
        }
      }),
    );
    const total = amounts.reduce((sum, a) => sum + minorFromFormatted(a, "USD"), 0n);

    const verified = await ops.verifyWalletChain(wallet.walletId);
    expect(verified).toMatchObject({ valid: true, entries: 320, matchesWallet: true, firstInvalidSequence: null });
    const now: Wallet = await ops.getWallet(wallet.walletId);
    expect(minorFromFormatted(now.balance, "USD")).toBe(total);
    expect(verified.headHash).toBe((await ops.audit(wallet.walletId)).headHash);

    const entries: Transaction[] = [];
    for await (const entry of ops.transactions(wallet.walletId)) entries.push(entry);
    const tampered = entries.map((e) => (e.sequence === 200 ? { ...e, amount: "49.99" } : e));
    expect(verifyEntries(now, tampered)).toMatchObject({
      valid: false,
      firstInvalidSequence: 200,
      matchesWallet: false,
    });
    const dropped = entries.filter((e) => e.sequence !== 77);
    expect(verifyEntries(now, dropped)).toMatchObject({ valid: false, firstInvalidSequence: 77 });
  }, 90_000);

  it("rides out a user migration in the middle of its retries: success, applied once", async () => {
    const setup = clientOf("ops");
    const wallet = await setup.createWallet({ userId: "mover" });
    await setup.deposit(wallet.walletId, { amount: "50.00" });
    const env = { PLACEMENT_SQLITE_PATH: platform.placementPath, CELLCTL_OPERATOR: "client-test" };

    // The first attempt of the deposit reaches the platform and is applied in cell-1, but its answer is lost
    // (as with a connection reset). Before the client retries, the user moves to cell-2.
    let migration: Awaited<ReturnType<typeof runCellctl>> | undefined;
    let lost = 0;
    const losingFirstAnswer: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (lost === 0 && init?.method === "POST" && String(input).endsWith("/deposit")) {
        lost += 1;
        await response.text();
        migration = await runCellctl(["users", "migrate", "mover", "--to", "cell-2", "--yes", "--json"], env);
        throw new TypeError("fetch failed: the connection was lost before the answer arrived");
      }
      return response;
    };
    // Meanwhile another client of the same user keeps depositing (and retries the 503s of the write pause).
    let streaming = true;
    const stream = clientOf("mover");
    const streamed: { attempts: number }[] = [];
    const background = (async () => {
      while (streaming) streamed.push(await stream.depositWritten(wallet.walletId, { amount: "0.01" }));
    })();

    const mover = clientOf("mover", { fetch: losingFirstAnswer, deadlineMs: 90_000 });
    const written = await mover.depositWritten(wallet.walletId, { amount: "7.00", reference: "across the move" });
    streaming = false;
    await background;

    expect(migration?.code, migration?.stderr).toBe(0);
    expect(JSON.parse(migration?.stdout ?? "{}").migration).toMatchObject({
      state: "completed",
      sourceCellId: "cell-1",
      targetCellId: "cell-2",
    });
    // The retry, in the new cell, got the answer stored by the first attempt in the old one.
    expect(written).toMatchObject({ status: 201, replayed: true, attempts: 2 });
    expect(written.value.amount).toBe("7.00");

    const entries: Transaction[] = [];
    for await (const entry of setup.transactions(wallet.walletId)) entries.push(entry);
    expect(entries.filter((e) => e.reference === "across the move")).toHaveLength(1);
    expect(entries).toHaveLength(2 + streamed.length);
    const after = await setup.getWallet(wallet.walletId);
    expect(minorFromFormatted(after.balance, "USD")).toBe(5_700n + BigInt(streamed.length));
    expect(await setup.verifyWalletChain(wallet.walletId)).toMatchObject({ valid: true, matchesWallet: true });
    console.info(
      `client test: ${streamed.length} deposits streamed across the move, ${streamed.filter((s) => s.attempts > 1).length} of them retried`,
    );
  }, 120_000);

  it("runs the README's journey (client/examples/try-it.mjs) as a user would, twice", async () => {
    const example = fileURLToPath(new URL("../examples/try-it.mjs", import.meta.url));
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [example], {
          env: { PATH: process.env.PATH ?? "", CELLWALLET_URL: router, ALICE: tokens.alice, OPS: tokens.ops },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        child.stderr.on("data", (d: Buffer) => {
          out += d.toString();
        });
        child.once("error", reject);
        child.once("close", (code) => resolve({ code, out }));
      });
    for (let i = 0; i < 2; i++) {
      const { code, out } = await run();
      expect(code, out).toBe(0);
      expect(out).toMatch(/transfer \S+: COMPLETED/);
      expect(out).toContain("refused as expected: 422 insufficient-funds");
      expect(out).toMatch(/chain verified offline: true \(\d+ entries/);
    }
  }, 90_000);
});
