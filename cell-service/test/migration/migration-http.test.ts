import { DEVELOPMENT_INTERNAL_SECRET, MIGRATION_PATH_PREFIX, mintToken } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../../test-support/cell-server.js";
import { type HttpResult, http } from "../../../test-support/http.js";
import { freePort } from "../../../test-support/moto-server.js";
import { openTestStore, type TestStore } from "../../../test-support/stores.js";
import { token } from "../../../test-support/tokens.js";

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

  const internal = (url: string, method: string, path: string, body?: unknown) =>
    http(url, method, `${MIGRATION_PATH_PREFIX}/${path}`, { token: service, ...(body !== undefined ? { body } : {}) });

  /** The control plane's protocol, as plain HTTP calls. */
  async function migrate(userId: string, from: string, to: string, fromEpoch: number, migrationId: string) {
    const [source, target] = [from === "cell-a" ? cellA.url : cellB.url, to === "cell-a" ? cellA.url : cellB.url];
    const toEpoch = fromEpoch + 1;
    const copy = async (cursor?: string): Promise<string> => {
      let next: string | undefined = cursor;
      let tail = "";
      do {
        const page = await internal(source, "GET", `${userId}/export?limit=3${next ? `&cursor=${next}` : ""}`);
        expect(page.status).toBe(200);
        const imported = await internal(target, "POST", `${userId}/import`, {
          migrationId,
          epoch: toEpoch,
          sourceCellId: from,
          items: page.body.items,
        });
        expect(imported.status, imported.text).toBe(200);
        next = page.body.nextCursor;
        tail = page.body.tailCursor;
      } while (next);
      return tail;
    };
    const tail = await copy();
    const frozen = await internal(source, "POST", `${userId}/freeze`, {
      migrationId,
      epoch: fromEpoch,
      targetCellId: to,
    });
    expect(frozen.body.state).toBe("frozen");
    const settled = await internal(source, "POST", `${userId}/settle`, { migrationId });
    expect(settled.body.pendingTransfers ?? 0).toBe(0);
    await copy(tail);
    const head = (await internal(source, "GET", userId)).body;
    const activated = await internal(target, "POST", `${userId}/activate`, {
      migrationId,
      epoch: toEpoch,
      expectedVersion: head.version ?? 0,
      expectedHeadHash: head.headHash ?? "0".repeat(64),
    });
    expect(activated.status, activated.text).toBe(200);
    const moved = await internal(source, "POST", `${userId}/moved`, { migrationId, epoch: toEpoch, targetCellId: to });
    expect(moved.body).toMatchObject({ state: "moved", movedTo: to });
    return { head, activated: activated.body };
  }

  const balanceIn = async (url: string, walletId: string) =>
    (await http(url, "GET", `/api/v1/wallets/${walletId}`, { token: tokens.ops })).body;

  beforeAll(async () => {
    const moto = inject("motoEndpoint");
    storeA = await openTestStore("sqlite", moto);
    storeB = await openTestStore("dynamodb", moto);
    const [portA, portB] = [await freePort(), await freePort()];
    // Each cell reaches the other directly for cross-cell credits (the router forwards the same path).
    cellA = await startInProcessCell(
      storeA.store,
      { CELL_ID: "cell-a", ROUTER_INTERNAL_URL: `http://127.0.0.1:${portB}` },
      portA,
    );
    cellB = await startInProcessCell(
      storeB.store,
      { CELL_ID: "cell-b", ROUTER_INTERNAL_URL: `http://127.0.0.1:${portA}` },
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
    const before = await balanceIn(cellA.url, wallets.alice);
    const history = (
      await http(cellA.url, "GET", `/api/v1/wallets/${wallets.alice}/transactions?limit=200`, { token: tokens.alice })
    ).body.items;
    const { head } = await migrate("alice", "cell-a", "cell-b", 1, "m-alice-1");
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

  it("counts migration steps on /metrics", async () => {
    const metrics = await (await fetch(`${cellA.url}/metrics`)).text();
    expect(metrics).toMatch(/cellwallet_migration_steps_total\{[^}]*step="freeze"[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /cellwallet_migration_steps_total\{[^}]*step="unfreeze"[^}]*outcome="conflict"[^}]*\} [1-9]/,
    );
  });
});
