import { DEVELOPMENT_INTERNAL_SECRET, MIGRATION_PATH_PREFIX, mintToken } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../../test-support/cell-server.js";
import { type HttpResult, http } from "../../../test-support/http.js";
import { freePort } from "../../../test-support/moto-server.js";
import { openTestStore, type TestStore } from "../../../test-support/stores.js";
import { token } from "../../../test-support/tokens.js";
import { HttpTransferCreditor } from "../../src/adapters/router-client/http-transfer-creditor.js";
import { post } from "../../src/domain/ledger-entry.js";
import { migrateUser } from "./protocol.js";

/**
 * The cell side of a user migration over real HTTP, driven step by step as the
 * control plane does: clone while live, freeze, settle, copy the tail, activate,
 * mark moved. Cell A runs on SQLite and cell B on DynamoDB (moto); alice moves
 * A → B and back, with history, same-cell and cross-cell transfers and stored
 * idempotency answers.
 */
describe("migration endpoints between a SQLite cell and a DynamoDB cell", () => {
  let storeA: TestStore;
  let storeB: TestStore;
  let cellA: InProcessCell;
  let cellB: InProcessCell;
  let service: string;
  const tokens = { alice: "", carol: "", bob: "", ops: "", auditor: "", dave: "" };
  const wallets = { alice: "", carol: "", bob: "" };
  const sent: Record<string, HttpResult> = {};
  let erinWallet = "";

  const internal = (url: string, method: string, path: string, body?: unknown) =>
    http(url, method, `${MIGRATION_PATH_PREFIX}/${path}`, { token: service, ...(body !== undefined ? { body } : {}) });

  const cells = () => ({ "cell-a": { id: "cell-a", url: cellA.url }, "cell-b": { id: "cell-b", url: cellB.url } });
  const migrate = (
    userId: string,
    from: "cell-a" | "cell-b",
    to: "cell-a" | "cell-b",
    epoch: number,
    id: string,
    afterClone?: () => Promise<void>,
  ) =>
    migrateUser(service, userId, cells()[from], cells()[to], epoch, id, {
      pageLimit: 3,
      ...(afterClone ? { afterClone } : {}),
    });

  const balanceIn = async (url: string, walletId: string) =>
    (await http(url, "GET", `/api/v1/wallets/${walletId}`, { token: tokens.ops })).body;

  beforeAll(async () => {
    const moto = inject("motoEndpoint");
    storeA = await openTestStore("sqlite", moto);
    storeB = await openTestStore("dynamodb", moto);
    const [portA, portB] = [await freePort(), await freePort()];
    // Each cell reaches the other directly for cross-cell credits (the router forwards the same path). The credit
    // timeout is a limit well above a loaded machine's stalls (both cells share this process, cell B calls the
    // shared moto): a credit past it would leave a transfer PENDING where the tests expect 201 COMPLETED. It is also
    // the worker's minimum age; the transfers written for the worker here are a minute old.
    const credit = { CROSS_CELL_CREDIT_TIMEOUT_MS: "20000" };
    cellA = await startInProcessCell(
      storeA.store,
      { CELL_ID: "cell-a", ROUTER_INTERNAL_URL: `http://127.0.0.1:${portB}`, ...credit },
      portA,
    );
    cellB = await startInProcessCell(
      storeB.store,
      { CELL_ID: "cell-b", ROUTER_INTERNAL_URL: `http://127.0.0.1:${portA}`, ...credit },
      portB,
    );
    service = await mintToken({ sub: "cellctl", scopes: ["wallet:internal"], secret: DEVELOPMENT_INTERNAL_SECRET });
    for (const user of ["alice", "carol", "bob", "dave"] as const) tokens[user] = await token(user);
    tokens.ops = await token("ops", "wallet:operator");
    tokens.auditor = await token("aud", "wallet:auditor");
    const create = async (url: string, user: "alice" | "carol" | "bob") =>
      (await http(url, "POST", "/api/v1/wallets", { token: tokens[user], body: { userId: user } })).body.walletId;
    wallets.alice = await create(cellA.url, "alice");
    wallets.carol = await create(cellA.url, "carol");
    wallets.bob = await create(cellB.url, "bob");
    const post = (key: string, url: string, path: string, who: keyof typeof tokens, body: unknown) =>
      http(url, "POST", path, { token: tokens[who], body, idempotencyKey: key }).then((r) => {
        sent[key] = r;
        return r;
      });
    await post("dep-1", cellA.url, `/api/v1/wallets/${wallets.alice}/deposit`, "alice", { amount: "100.00" });
    await post("dep-2", cellA.url, `/api/v1/wallets/${wallets.carol}/deposit`, "carol", { amount: "50.00" });
    await post("too-much", cellA.url, `/api/v1/wallets/${wallets.alice}/withdraw`, "alice", { amount: "1000.00" });
    await post("to-carol", cellA.url, "/api/v1/wallets/transfer", "alice", {
      fromWalletId: wallets.alice,
      toWalletId: wallets.carol,
      amount: "10.00",
    });
    await post("from-carol", cellA.url, "/api/v1/wallets/transfer", "carol", {
      fromWalletId: wallets.carol,
      toWalletId: wallets.alice,
      amount: "5.00",
    });
    await post("to-bob", cellA.url, "/api/v1/wallets/transfer", "alice", {
      fromWalletId: wallets.alice,
      toWalletId: wallets.bob,
      amount: "20.00",
      reference: "cross-cell",
    });
    for (let i = 0; i < 5; i++) {
      await post(`small-${i}`, cellA.url, `/api/v1/wallets/${wallets.alice}/withdraw`, "alice", { amount: "1.00" });
    }
    expect(sent["to-bob"]?.status).toBe(201);
    expect(sent["too-much"]?.status).toBe(422);
  });

  afterAll(async () => {
    await cellA?.close();
    await cellB?.close();
    await storeA?.store.close();
    await storeB?.store.close();
  });

  it("needs a service token: 401 without one, 403 for a user token or one without wallet:internal", async () => {
    expect((await http(cellA.url, "GET", `${MIGRATION_PATH_PREFIX}/alice`)).status).toBe(401);
    const asUser = await http(cellA.url, "GET", `${MIGRATION_PATH_PREFIX}/alice`, { token: tokens.alice });
    expect(asUser.status).toBe(403);
    const noScope = await mintToken({ sub: "x", scopes: ["wallet"], secret: DEVELOPMENT_INTERNAL_SECRET });
    const freeze = await http(cellA.url, "POST", `${MIGRATION_PATH_PREFIX}/alice/freeze`, {
      token: noScope,
      body: { migrationId: "m", epoch: 1, targetCellId: "cell-b" },
    });
    expect(freeze.status).toBe(403);
    expect((await internal(cellA.url, "GET", "alice")).body.state).toBe("active");
  });

  it("answers bad input with 400 problem+json and changes nothing", async () => {
    const cases: [string, string, unknown][] = [
      ["POST", "alice/freeze", { migrationId: "m", epoch: 0, targetCellId: "cell-b" }],
      ["POST", "alice/freeze", { migrationId: "m", epoch: 1, targetCellId: "Cell B" }],
      ["POST", "alice/freeze", { migrationId: "m", epoch: 1, targetCellId: "cell-b", extra: 1 }],
      ["POST", "alice/activate", { migrationId: "m", epoch: 2, expectedVersion: 1, expectedHeadHash: "zz" }],
      ["POST", "alice/import", { migrationId: "m", epoch: 2, sourceCellId: "cell-a", items: [{ kind: "nope" }] }],
      ["POST", "bad%20user/freeze", { migrationId: "m", epoch: 1, targetCellId: "cell-b" }],
      ["GET", "alice/export?limit=0", undefined],
      ["GET", "alice/export?cursor=not-a-cursor", undefined],
    ];
    for (const [method, path, body] of cases) {
      const answer = await internal(cellA.url, method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.headers.get("content-type")).toContain("application/problem+json");
      expect(answer.body.code).toBe("validation-error");
    }
    expect((await internal(cellA.url, "GET", "alice")).body.state).toBe("active");
  });

  it("fences writes while frozen (503 + Retry-After), serves reads, and rolls back with unfreeze", async () => {
    const frozen = await internal(cellA.url, "POST", "carol/freeze", {
      migrationId: "m-carol",
      epoch: 1,
      targetCellId: "cell-b",
    });
    expect(frozen.body).toMatchObject({ state: "frozen", walletId: wallets.carol, epoch: 1 });
    const write = await http(cellA.url, "POST", `/api/v1/wallets/${wallets.carol}/deposit`, {
      token: tokens.carol,
      body: { amount: "1.00" },
      idempotencyKey: "while-frozen",
    });
    expect(write.status).toBe(503);
    expect(write.body.code).toBe("cell-unavailable");
    expect(write.headers.get("retry-after")).toBe("1");
    expect(write.headers.get("wallet-location")).toBeNull();
    // A same-cell transfer touching the frozen wallet is refused as a whole.
    const transfer = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: tokens.alice,
      body: { fromWalletId: wallets.alice, toWalletId: wallets.carol, amount: "1.00" },
    });
    expect(transfer.status).toBe(503);
    expect((await http(cellA.url, "GET", `/api/v1/wallets/${wallets.carol}`, { token: tokens.carol })).status).toBe(
      200,
    );
    // Wrong migration or a stale epoch: 409, nothing changes.
    const other = await internal(cellA.url, "POST", "carol/unfreeze", { migrationId: "m-other", epoch: 1 });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe("migration-conflict");
    // Freeze and unfreeze are idempotent per migration.
    const once = { migrationId: "m-x", epoch: 1, targetCellId: "cell-b" };
    expect((await internal(cellA.url, "POST", "alice/freeze", once)).status).toBe(200);
    expect((await internal(cellA.url, "POST", "alice/freeze", once)).body.state).toBe("frozen");
    expect((await internal(cellA.url, "POST", "alice/unfreeze", { migrationId: "m-x", epoch: 1 })).body.state).toBe(
      "active",
    );
    const back = await internal(cellA.url, "POST", "carol/unfreeze", { migrationId: "m-carol", epoch: 1 });
    expect(back.body.state).toBe("active");
    // The key was not stored by the refused attempt: the same request now applies once.
    const retried = await http(cellA.url, "POST", `/api/v1/wallets/${wallets.carol}/deposit`, {
      token: tokens.carol,
      body: { amount: "1.00" },
      idempotencyKey: "while-frozen",
    });
    expect(retried.status).toBe(201);
  });

  it("moves alice A → B: the copy verifies, balances match, stored answers replay, the source is read-only", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: test reads JSON shapes
    let before: any;
    // biome-ignore lint/suspicious/noExplicitAny: test reads JSON shapes
    let history: any;
    // Between the clone and the freeze: a deposit and a refusal only the tail copy carries.
    const late = async () => {
      for (const [key, path, amount] of [
        ["late-dep", `/api/v1/wallets/${wallets.alice}/deposit`, "4.00"],
        ["late-refusal", `/api/v1/wallets/${wallets.alice}/withdraw`, "5000.00"],
      ] as const) {
        sent[key] = await http(cellA.url, "POST", path, { token: tokens.alice, body: { amount }, idempotencyKey: key });
      }
      expect(sent["late-refusal"]?.status).toBe(422);
      before = await balanceIn(cellA.url, wallets.alice);
      history = (
        await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}/transactions?limit=200`, { token: tokens.alice })
      ).body.items;
    };
    const { head } = await migrate("alice", "cell-a", "cell-b", 1, "m-alice-1", late);
    expect(head.version).toBe(before.version);

    const after = await balanceIn(cellB.url, wallets.alice);
    expect(after.balance).toBe(before.balance);
    expect(after.version).toBe(before.version);
    const copied = (
      await http(cellB.url, "GET", `/api/v1/wallets/${wallets.alice}/transactions?limit=200`, { token: tokens.alice })
    ).body.items;
    expect(copied).toEqual(history);
    const audit = await http(cellB.url, "GET", `/api/v1/wallets/${wallets.alice}/audit`, { token: tokens.alice });
    expect(audit.body).toMatchObject({ valid: true, entries: before.version, headHash: head.headHash });

    // A client retrying with the same Idempotency-Key in the new cell gets the stored answer; nothing applies twice.
    for (const [key, path, body] of [
      ["dep-1", `/api/v1/wallets/${wallets.alice}/deposit`, { amount: "100.00" }],
      ["too-much", `/api/v1/wallets/${wallets.alice}/withdraw`, { amount: "1000.00" }],
      [
        "to-bob",
        "/api/v1/wallets/transfer",
        { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount: "20.00", reference: "cross-cell" },
      ],
      ["small-3", `/api/v1/wallets/${wallets.alice}/withdraw`, { amount: "1.00" }],
      ["late-dep", `/api/v1/wallets/${wallets.alice}/deposit`, { amount: "4.00" }],
      ["late-refusal", `/api/v1/wallets/${wallets.alice}/withdraw`, { amount: "5000.00" }],
    ] as const) {
      const replay = await http(cellB.url, "POST", path, { token: tokens.alice, body, idempotencyKey: key });
      expect(replay.status, key).toBe(sent[key]?.status);
      expect(replay.text, key).toBe(sent[key]?.text);
      expect(replay.headers.get("idempotency-replayed")).toBe("true");
    }
    expect((await balanceIn(cellB.url, wallets.alice)).balance).toBe(before.balance);

    // The source copy: everything public answers 503 + Wallet-Location, writes and reads alike.
    for (const [method, path, body] of [
      ["GET", `/api/v1/wallets/${wallets.alice}`, undefined],
      ["GET", `/api/v1/wallets/${wallets.alice}/transactions`, undefined],
      ["POST", `/api/v1/wallets/${wallets.alice}/deposit`, { amount: "1.00" }],
      ["GET", "/api/v1/wallets?userId=alice", undefined],
      ["POST", "/api/v1/wallets", { userId: "alice" }],
    ] as const) {
      const answer = await http(cellA.url, method, path, { token: tokens.alice, ...(body ? { body } : {}) });
      expect(answer.status, path).toBe(503);
      expect(answer.headers.get("wallet-location")).toBe("cell-b");
      expect(answer.headers.get("retry-after")).toBe("1");
    }
    // The new cell takes writes; a transfer from the old cell to the moved wallet becomes a cross-cell one.
    const deposit = await http(cellB.url, "POST", `/api/v1/wallets/${wallets.alice}/deposit`, {
      token: tokens.alice,
      body: { amount: "2.00" },
    });
    expect(deposit.status).toBe(201);
    const fromCarol = await http(cellA.url, "POST", "/api/v1/wallets/transfer", {
      token: tokens.carol,
      body: { fromWalletId: wallets.carol, toWalletId: wallets.alice, amount: "3.00" },
    });
    expect(fromCarol.status, fromCarol.text).toBe(201);
    expect((await balanceIn(cellB.url, wallets.alice)).balance).toBe((Number(before.balance) + 5).toFixed(2));
    // Repeating steps is harmless: same answers, nothing changes.
    expect(
      (await internal(cellA.url, "POST", "alice/moved", { migrationId: "m-alice-1", epoch: 2, targetCellId: "cell-b" }))
        .status,
    ).toBe(200);
    const again = await internal(cellB.url, "POST", "alice/activate", {
      migrationId: "m-alice-1",
      epoch: 2,
      expectedVersion: head.version,
      expectedHeadHash: head.headHash,
    });
    expect(again.status).toBe(200);
    expect(again.body.state).toBe("active");
  });

  it("moves alice back B → A: the import continues from the copy A kept, and A owns her again", async () => {
    const before = await balanceIn(cellB.url, wallets.alice);
    const { head } = await migrate("alice", "cell-b", "cell-a", 2, "m-alice-2");
    expect(head.version).toBe(before.version);
    const after = await balanceIn(cellA.url, wallets.alice);
    expect(after).toMatchObject({ balance: before.balance, version: before.version });
    const audit = await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}/audit`, { token: tokens.alice });
    expect(audit.body.valid).toBe(true);
    expect((await internal(cellA.url, "GET", "alice")).body).toMatchObject({ state: "active", epoch: 3 });
    const stale = await http(cellB.url, "GET", `/api/v1/wallets/${wallets.alice}`, { token: tokens.alice });
    expect(stale.headers.get("wallet-location")).toBe("cell-a");
    // A freeze at an epoch older than the one A now holds alice at is refused.
    const old = await internal(cellA.url, "POST", "alice/freeze", {
      migrationId: "m-old",
      epoch: 2,
      targetCellId: "cell-b",
    });
    expect(old.status).toBe(409);
    expect(old.body.code).toBe("migration-conflict");
  });

  it("refuses to activate a copy that does not end at the source's head (409, nothing changes)", async () => {
    const migrationId = "m-carol-2";
    const page = await internal(cellA.url, "GET", "carol/export");
    await internal(cellB.url, "POST", "carol/import", {
      migrationId,
      epoch: 2,
      sourceCellId: "cell-a",
      items: page.body.items,
    });
    const wrong = await internal(cellB.url, "POST", "carol/activate", {
      migrationId,
      epoch: 2,
      expectedVersion: page.body.status.version + 1,
      expectedHeadHash: page.body.status.headHash,
    });
    expect(wrong.status).toBe(409);
    expect((await internal(cellB.url, "GET", "carol")).body.state).toBe("importing");
    // An importing copy is never served publicly.
    const hidden = await http(cellB.url, "GET", `/api/v1/wallets/${wallets.carol}`, { token: tokens.carol });
    expect(hidden.status).toBe(503);
    // Rollback: abandoned (invisible), and a later import continues from the stored prefix.
    expect((await internal(cellB.url, "POST", "carol/abandon", { migrationId })).body.state).toBe("absent");
    expect((await http(cellB.url, "GET", `/api/v1/wallets/${wallets.carol}`, { token: tokens.carol })).status).toBe(
      404,
    );
    const again = await internal(cellB.url, "POST", "carol/import", {
      migrationId: "m-carol-3",
      epoch: 2,
      sourceCellId: "cell-a",
      items: page.body.items,
    });
    expect(again.body).toMatchObject({ stored: 0, status: { state: "importing", version: page.body.status.version } });
    // A copy activated by this migration can still be rolled back before the flip; an owned copy never.
    const activated = await internal(cellB.url, "POST", "carol/activate", {
      migrationId: "m-carol-3",
      epoch: 2,
      expectedVersion: page.body.status.version,
      expectedHeadHash: page.body.status.headHash,
    });
    expect(activated.body.state).toBe("active");
    expect((await internal(cellB.url, "POST", "bob/abandon", { migrationId: "m-carol-3" })).status).toBe(409);
    expect((await internal(cellB.url, "POST", "carol/abandon", { migrationId: "m-carol-3" })).body.state).toBe(
      "absent",
    );
    expect((await http(cellB.url, "GET", `/api/v1/wallets/${wallets.carol}`, { token: tokens.carol })).status).toBe(
      404,
    );
    const reimport = await internal(cellB.url, "POST", "carol/import", {
      migrationId: "m-carol-3",
      epoch: 2,
      sourceCellId: "cell-a",
      items: page.body.items,
    });
    expect(reimport.body.status.state).toBe("importing");
    // A conflicting item is a 409: an entry that differs from the stored one.
    const tampered = structuredClone(page.body.items);
    const entry = tampered.find((i: { kind: string }) => i.kind === "entry");
    entry.entry.reference = "rewritten";
    const refused = await internal(cellB.url, "POST", "carol/import", {
      migrationId: "m-carol-3",
      epoch: 2,
      sourceCellId: "cell-a",
      items: tampered,
    });
    expect(refused.status).toBe(409);
    await internal(cellB.url, "POST", "carol/abandon", { migrationId: "m-carol-3" });
  });

  it("fences a user without a wallet, so a stale route cannot create one in the old cell", async () => {
    const migrationId = "m-dave";
    expect((await internal(cellA.url, "GET", "dave")).body).toEqual({ userId: "dave", state: "absent" });
    expect(
      (await internal(cellA.url, "POST", "dave/freeze", { migrationId, epoch: 1, targetCellId: "cell-b" })).body.state,
    ).toBe("frozen");
    const create = () => http(cellA.url, "POST", "/api/v1/wallets", { token: tokens.dave, body: { userId: "dave" } });
    expect((await create()).status).toBe(503);
    const activated = await internal(cellB.url, "POST", "dave/activate", {
      migrationId,
      epoch: 2,
      expectedVersion: 0,
      expectedHeadHash: "0".repeat(64),
    });
    expect(activated.body.state).toBe("absent");
    await internal(cellA.url, "POST", "dave/moved", { migrationId, epoch: 2, targetCellId: "cell-b" });
    const stale = await create();
    expect(stale.status).toBe(503);
    expect(stale.headers.get("wallet-location")).toBe("cell-b");
    const created = await http(cellB.url, "POST", "/api/v1/wallets", { token: tokens.dave, body: { userId: "dave" } });
    expect(created.status).toBe(201);
  });

  it("settles a frozen wallet's pending cross-cell transfer on request, so the frozen head is final", async () => {
    const erin = await token("erin");
    const created = await http(cellA.url, "POST", "/api/v1/wallets", { token: erin, body: { userId: "erin" } });
    const walletId: string = created.body.walletId;
    erinWallet = walletId;
    await http(cellA.url, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: tokens.ops,
      body: { amount: "9.00" },
    });
    // A debit whose credit was never confirmed (as after a timeout): PENDING, left to the worker.
    const transferId = `${"7".repeat(26)}-cell-a`;
    const pending = await storeA.store.commit({
      walletIds: [walletId],
      decide: ({ wallets: read, now }) => {
        const w = read.get(walletId);
        if (!w) throw new Error("missing");
        const debit = post(
          w,
          {
            transactionId: `${"8".repeat(26)}`,
            type: "TRANSFER_OUT",
            amount: 400n,
            transferId,
            counterpartyWalletId: wallets.bob,
            context: { principal: "erin", requestId: "r" },
          },
          now,
        );
        if (!debit.ok) throw new Error("refused");
        const transfer = {
          transferId,
          fromWalletId: walletId,
          toWalletId: wallets.bob,
          fromUserId: "erin",
          amount: 400n,
          currency: "USD",
          status: "PENDING" as const,
          // Old enough for the background worker to pick it up.
          createdAt: now - 60_000,
          destinationCellId: "cell-b",
        };
        return {
          changes: {
            walletUpdates: [{ wallet: debit.value.wallet, expectedVersion: w.version, debit: 400n }],
            entries: [debit.value.entry],
            transfers: [{ transfer }],
          },
          result: 0,
        };
      },
    });
    expect(pending.ok).toBe(true);
    const bobBefore = (await balanceIn(cellB.url, wallets.bob)).balance;
    const frozen = await internal(cellA.url, "POST", "erin/freeze", {
      migrationId: "m-erin",
      epoch: 1,
      targetCellId: "cell-b",
    });
    expect(frozen.body).toMatchObject({ state: "frozen", pendingTransfers: 1 });
    // The background worker may ask for the credit but never settles a frozen wallet; the settle step does.
    expect(await cellA.cell.worker?.runOnce()).toBe(0);
    expect((await storeA.store.getTransfer(transferId))?.status).toBe("PENDING");
    const settled = await internal(cellA.url, "POST", "erin/settle", { migrationId: "m-erin" });
    expect(settled.body).toMatchObject({ state: "frozen", pendingTransfers: 0 });
    expect((await storeA.store.getTransfer(transferId))?.status).toBe("COMPLETED");
    expect(Number((await balanceIn(cellB.url, wallets.bob)).balance)).toBeCloseTo(Number(bobBefore) + 4, 2);
    // Settling again is a no-op; the head did not move.
    const again = await internal(cellA.url, "POST", "erin/settle", {});
    expect(again.body.version).toBe(settled.body.version);
    expect((await internal(cellA.url, "POST", "erin/unfreeze", { migrationId: "m-erin", epoch: 1 })).body.state).toBe(
      "active",
    );
  });

  it("counts each wallet only in the cell that owns it: verification, checkpoints, reconciliation", async () => {
    const audit = async (url: string) => (await http(url, "GET", "/api/v1/cell/audit", { token: tokens.auditor })).body;
    const reconcile = async (url: string) =>
      (await http(url, "GET", "/api/v1/cell/reconciliation", { token: tokens.auditor })).body;
    const [auditA, auditB] = [await audit(cellA.url), await audit(cellB.url)];
    // Every copy still verifies (kept for audit), but only owned wallets count in the totals.
    expect(auditA).toMatchObject({ valid: true, wallets: 3, migrationCopies: 0 }); // alice, carol, erin
    expect(auditB.valid).toBe(true);
    expect(auditB.migrationCopies).toBeGreaterThanOrEqual(2); // alice moved back to A, carol's abandoned import
    expect(auditB.wallets).toBe(2); // bob, dave
    const [a, b] = [await reconcile(cellA.url), await reconcile(cellB.url)];
    expect(a.mismatches).toEqual([]);
    expect(b.mismatches).toEqual([]);
    expect(a.pendingCount + b.pendingCount).toBe(0);
    const sum = (key: string) => BigInt(a.currencies.USD?.[key] ?? "0") + BigInt(b.currencies.USD?.[key] ?? "0");
    // Platform-wide: the money appears once, in the owning cells.
    expect(sum("balances")).toBe(sum("deposits") - sum("withdrawals"));
    expect(sum("crossIn")).toBe(sum("crossOutCompleted"));
    const balances =
      BigInt((await balanceIn(cellA.url, wallets.alice)).balance.replace(".", "")) +
      BigInt((await balanceIn(cellA.url, wallets.carol)).balance.replace(".", "")) +
      BigInt((await balanceIn(cellA.url, erinWallet)).balance.replace(".", "")) +
      BigInt((await balanceIn(cellB.url, wallets.bob)).balance.replace(".", ""));
    expect(sum("balances")).toBe(balances);
    // A checkpoint signs only the wallets its cell owns.
    const run = await cellB.cell.checkpoints?.runOnce();
    expect(run?.outcome).toBe("created");
    const sequence = run?.outcome === "created" ? run.checkpoint.sequence : 0;
    const exported = await http(cellB.url, "GET", `/api/v1/cell/checkpoints/${sequence}`, { token: tokens.auditor });
    const signed = exported.body.heads.map((h: { walletId: string }) => h.walletId);
    expect(signed).toContain(wallets.bob);
    expect(signed).not.toContain(wallets.alice);
    expect(signed).not.toContain(wallets.carol);
    expect((await audit(cellB.url)).valid).toBe(true);
  });

  it("credits a pending transfer exactly once when its receiver moved into the sender's cell", async () => {
    // erin (cell A) sends to bob (cell B); the credit is not confirmed yet when bob moves to A.
    const transferId = `${"5".repeat(26)}-cell-a`;
    const sendPending = await storeA.store.commit({
      walletIds: [erinWallet],
      decide: ({ wallets: read, now }) => {
        const w = read.get(erinWallet);
        if (!w) throw new Error("missing");
        const debit = post(
          w,
          {
            transactionId: "6".repeat(26),
            type: "TRANSFER_OUT",
            amount: 100n,
            transferId,
            counterpartyWalletId: wallets.bob,
            context: { principal: "erin", requestId: "r" },
          },
          now,
        );
        if (!debit.ok) throw new Error("refused");
        const transfer = {
          transferId,
          fromWalletId: erinWallet,
          toWalletId: wallets.bob,
          fromUserId: "erin",
          amount: 100n,
          currency: "USD",
          status: "PENDING" as const,
          createdAt: now,
          destinationCellId: "cell-b",
        };
        return {
          changes: {
            walletUpdates: [{ wallet: debit.value.wallet, expectedVersion: w.version, debit: 100n }],
            entries: [debit.value.entry],
            transfers: [{ transfer }],
          },
          result: 0,
        };
      },
    });
    expect(sendPending.ok).toBe(true);
    const bobBefore = (await balanceIn(cellB.url, wallets.bob)).balance;
    await migrate("bob", "cell-b", "cell-a", 1, "m-bob");
    expect((await balanceIn(cellA.url, wallets.bob)).balance).toBe(bobBefore);
    // The credit now reaches cell A, which holds the sender's outgoing record: it credits once, however often asked.
    const credit = {
      transferId,
      fromWalletId: erinWallet,
      toWalletId: wallets.bob,
      amount: "1.00",
      currency: "USD",
      sourceCellId: "cell-a",
    };
    const internalToken = await mintToken({
      sub: "cell:cell-a",
      scopes: ["wallet:internal"],
      secret: DEVELOPMENT_INTERNAL_SECRET,
    });
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        (await http(cellA.url, "POST", "/internal/v1/transfers/credit", { token: internalToken, body: credit })).status,
      );
    }
    expect(answers).toEqual([201, 200, 200]);
    expect(Number((await balanceIn(cellA.url, wallets.bob)).balance)).toBeCloseTo(Number(bobBefore) + 1, 2);
    // This test has no router: cell A's "router" is cell B, which now answers 503 + Wallet-Location for bob,
    // so the transfer stays pending (a real router re-forwards to A)...
    const unreachable = await internal(cellA.url, "POST", "erin/settle", {});
    expect(unreachable.body.pendingTransfers).toBe(1);
    // ...until the credit path leads to the cell that owns bob now, as the router's relocation does.
    const deps = cellA.cell.deps;
    const viaRouter = deps.creditor;
    deps.creditor = new HttpTransferCreditor({
      routerUrl: cellA.url,
      cellId: "cell-a",
      internalSecret: DEVELOPMENT_INTERNAL_SECRET,
      // A limit, not a wait: a credit past it (a stalled worker) would leave the transfer pending.
      timeoutMs: 30_000,
    });
    const settled = await internal(cellA.url, "POST", "erin/settle", {});
    if (viaRouter) deps.creditor = viaRouter;
    expect(settled.body.pendingTransfers).toBe(0);
    expect((await storeA.store.getTransfer(transferId))?.status).toBe("COMPLETED");
    expect(Number((await balanceIn(cellA.url, wallets.bob)).balance)).toBeCloseTo(Number(bobBefore) + 1, 2);
    // Both cells still reconcile, and the platform sums match.
    const reconcile = async (url: string) =>
      (await http(url, "GET", "/api/v1/cell/reconciliation", { token: tokens.auditor })).body;
    const [a, b] = [await reconcile(cellA.url), await reconcile(cellB.url)];
    expect(a.mismatches).toEqual([]);
    expect(b.mismatches).toEqual([]);
    const sum = (key: string) => BigInt(a.currencies.USD?.[key] ?? "0") + BigInt(b.currencies.USD?.[key] ?? "0");
    expect(sum("balances")).toBe(sum("deposits") - sum("withdrawals"));
    expect(sum("crossIn")).toBe(sum("crossOutCompleted"));
    expect((await http(cellA.url, "GET", "/api/v1/cell/audit", { token: tokens.auditor })).body.valid).toBe(true);
  });

  it("sends readers of a pending transfer whose sender moved to the new cell", async () => {
    const fay = await token("fay");
    const created = await http(cellA.url, "POST", "/api/v1/wallets", { token: fay, body: { userId: "fay" } });
    const fayWallet: string = created.body.walletId;
    await http(cellA.url, "POST", `/api/v1/wallets/${fayWallet}/deposit`, {
      token: tokens.ops,
      body: { amount: "2.00" },
    });
    const transferId = `${"3".repeat(26)}-cell-a`;
    await storeA.store.commit({
      walletIds: [fayWallet],
      decide: ({ wallets: read, now }) => {
        const w = read.get(fayWallet);
        if (!w) throw new Error("missing");
        const debit = post(
          w,
          {
            transactionId: "4".repeat(26),
            type: "TRANSFER_OUT",
            amount: 50n,
            transferId,
            counterpartyWalletId: `${"0".repeat(26)}-cell-z`,
            context: { principal: "fay", requestId: "r" },
          },
          now,
        );
        if (!debit.ok) throw new Error("refused");
        const transfer = {
          transferId,
          fromWalletId: fayWallet,
          toWalletId: `${"0".repeat(26)}-cell-z`,
          fromUserId: "fay",
          amount: 50n,
          currency: "USD",
          status: "PENDING" as const,
          createdAt: now,
          destinationCellId: "cell-z",
        };
        return {
          changes: {
            walletUpdates: [{ wallet: debit.value.wallet, expectedVersion: w.version, debit: 50n }],
            entries: [debit.value.entry],
            transfers: [{ transfer }],
          },
          result: 0,
        };
      },
    });
    // Moved without the transfer being settled (say the pending listing lagged): the target owns it now.
    const m = { migrationId: "m-fay", epoch: 2, sourceCellId: "cell-a" };
    const page = await internal(cellA.url, "GET", "fay/export");
    await internal(cellB.url, "POST", "fay/import", { ...m, items: page.body.items });
    await internal(cellA.url, "POST", "fay/freeze", { migrationId: "m-fay", epoch: 1, targetCellId: "cell-b" });
    const head = (await internal(cellA.url, "GET", "fay")).body;
    await internal(cellB.url, "POST", "fay/activate", {
      migrationId: "m-fay",
      epoch: 2,
      expectedVersion: head.version,
      expectedHeadHash: head.headHash,
    });
    await internal(cellA.url, "POST", "fay/moved", { migrationId: "m-fay", epoch: 2, targetCellId: "cell-b" });
    const stale = await http(cellA.url, "GET", `/api/v1/transfers/${transferId}`, { token: fay });
    expect(stale.status).toBe(503);
    expect(stale.headers.get("wallet-location")).toBe("cell-b");
    const fresh = await http(cellB.url, "GET", `/api/v1/transfers/${transferId}`, { token: fay });
    expect(fresh.status).toBe(200);
    expect(fresh.body.status).toBe("PENDING");
    // The new owner's reconciliation lists it as money in transit; the old cell no longer counts it.
    const reconcileA = (await http(cellA.url, "GET", "/api/v1/cell/reconciliation", { token: tokens.auditor })).body;
    const reconcileB = (await http(cellB.url, "GET", "/api/v1/cell/reconciliation", { token: tokens.auditor })).body;
    expect(reconcileA.pendingOutgoing.map((p: { transferId: string }) => p.transferId)).not.toContain(transferId);
    expect(reconcileB.pendingOutgoing.map((p: { transferId: string }) => p.transferId)).toContain(transferId);
    expect(reconcileA.mismatches).toEqual([]);
    expect(reconcileB.mismatches).toEqual([]);
  });

  it("counts migration steps on /metrics", async () => {
    const metrics = await (await fetch(`${cellA.url}/metrics`)).text();
    expect(metrics).toMatch(/cellwallet_migration_steps_total\{[^}]*step="freeze"[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /cellwallet_migration_steps_total\{[^}]*step="unfreeze"[^}]*outcome="conflict"[^}]*\} [1-9]/,
    );
  });
});
