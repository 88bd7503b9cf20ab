/**
 * Issue 5: the operators' audit trail — hash-chained, append-only, on both
 * stores; cellctl records what operators do and verifies the trail.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { ensurePlacementTables, placementTableNames } from "@cellwallet/placement";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { dynamoClient } from "../../test-support/stores.js";
import { OperatorLogVerifier, type OperatorRecord } from "../src/audit/operator-log.js";
import {
  DynamoDbOperatorLogStore,
  type OperatorLogStore,
  SqliteOperatorLogStore,
} from "../src/audit/operator-log-store.js";

const cellctl = runCellctl;

async function verify(log: OperatorLogStore) {
  const verifier = new OperatorLogVerifier();
  const records: OperatorRecord[] = [];
  for await (const r of log.stream()) {
    verifier.add(r);
    records.push(r);
  }
  return { result: verifier.result(), records };
}

interface Adapter {
  name: string;
  open(): Promise<{
    log: OperatorLogStore;
    rewrite(record: OperatorRecord): Promise<void>;
    remove(sequence: number): Promise<void>;
  }>;
}

const motoEndpoint = () => inject("motoEndpoint");
let n = 0;

const adapters: Adapter[] = [
  {
    name: "sqlite",
    async open() {
      const path = join(mkdtempSync(join(tmpdir(), "cellwallet-oplog-")), "placement.sqlite");
      const raw = () => {
        const db = new Database(path);
        db.exec(
          "DROP TRIGGER IF EXISTS operator_audit_append_only_update; DROP TRIGGER IF EXISTS operator_audit_append_only_delete;",
        );
        return db;
      };
      return {
        log: new SqliteOperatorLogStore(path),
        async rewrite(record) {
          const db = raw();
          db.prepare("UPDATE operator_audit SET body = ? WHERE sequence = ?").run(
            JSON.stringify(record),
            record.sequence,
          );
          db.close();
        },
        async remove(sequence) {
          const db = raw();
          db.prepare("DELETE FROM operator_audit WHERE sequence = ?").run(sequence);
          db.close();
        },
      };
    },
  },
  {
    name: "dynamodb",
    async open() {
      const client = dynamoClient(motoEndpoint());
      const prefix = `oplog${process.pid}${Date.now().toString(36)}${n++}`;
      await ensurePlacementTables(client, prefix);
      const table = placementTableNames(prefix).operatorAudit;
      const key = (sequence: number) => ({ recordKey: { S: `record#${String(sequence).padStart(12, "0")}` } });
      return {
        log: new DynamoDbOperatorLogStore(client, prefix, true),
        async rewrite(record) {
          const raw = dynamoClient(motoEndpoint());
          const out = await raw.send(new GetItemCommand({ TableName: table, Key: key(record.sequence) }));
          if (!out.Item) throw new Error("no record");
          await raw.send(
            new PutItemCommand({
              TableName: table,
              Item: { ...key(record.sequence), body: { S: JSON.stringify(record) } },
            }),
          );
          raw.destroy();
        },
        async remove(sequence) {
          const raw = dynamoClient(motoEndpoint());
          await raw.send(new DeleteItemCommand({ TableName: table, Key: key(sequence) }));
          raw.destroy();
        },
      };
    },
  },
];

describe.each(adapters)("operator audit trail on $name", (adapter) => {
  let opened: Awaited<ReturnType<Adapter["open"]>>;
  beforeAll(async () => {
    opened = await adapter.open();
  });
  afterAll(async () => {
    await opened.log.close();
  });

  it("chains records; concurrent appends get distinct consecutive sequences; tampering is found at its record", async () => {
    const first = await opened.log.append({
      actor: "jane",
      action: "token.mint",
      target: "alice",
      details: { scopes: ["wallet"] },
    });
    expect(first).toMatchObject({ sequence: 1, prevHash: "0".repeat(64), actor: "jane", action: "token.mint" });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        opened.log.append({ actor: `op-${i}`, action: "cell.verify", target: "cell-1", details: { valid: true } }),
      ),
    );
    const clean = await verify(opened.log);
    expect(clean.result).toMatchObject({ valid: true, records: 7, firstInvalidSequence: null });
    expect(clean.records.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(clean.records.map((r) => r.actor)).size).toBe(7);

    // Someone edits who did it: found at that record.
    const third = clean.records[2] as OperatorRecord;
    await opened.rewrite({ ...third, actor: "someone-else" });
    const edited = await verify(opened.log);
    expect(edited.result).toMatchObject({ valid: false, firstInvalidSequence: 3 });
    expect(edited.result.reason).toMatch(/hash does not match/);
    await opened.rewrite(third);
    expect((await verify(opened.log)).result.valid).toBe(true);

    // Someone deletes a record: found where the gap is.
    await opened.remove(5);
    const gap = await verify(opened.log);
    expect(gap.result).toMatchObject({ valid: false, firstInvalidSequence: 5 });
  });
});

describe("cellctl records operator actions and verifies the trail", () => {
  it("token mints are recorded (never the token); audit-log verifies, and exits 1 once tampered", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cellwallet-oplog-cli-")), "placement.sqlite");
    const env = { PLACEMENT_SQLITE_PATH: path, CELLCTL_OPERATOR: "ops-jane" };
    const minted = await cellctl(["token", "--sub", "alice", "--scope", "wallet:auditor", "--ttl", "15m"], env);
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    const missing = await cellctl(["verify", "--cell", "nope"], env);
    expect(missing.code).toBe(2);

    const log = await cellctl(["audit-log", "--json"], env);
    expect(log.code, log.stderr).toBe(0);
    const parsed = JSON.parse(log.stdout);
    expect(parsed.verification).toMatchObject({ valid: true, records: 1 });
    expect(parsed.records[0]).toMatchObject({
      sequence: 1,
      actor: "ops-jane",
      action: "token.mint",
      target: "alice",
      details: { scopes: ["wallet:auditor"], ttlSeconds: 900 },
    });
    expect(log.stdout).not.toContain(token);
    const table = await cellctl(["audit-log"], env);
    expect(table.stdout).toMatch(/1\s+\S+Z\s+ops-jane\s+token\.mint\s+alice/);
    expect(table.stdout).toMatch(/VALID: 1 records/);

    const db = new Database(path);
    db.exec("DROP TRIGGER operator_audit_append_only_update");
    db.prepare("UPDATE operator_audit SET body = replace(body, 'alice', 'mallory') WHERE sequence = 1").run();
    db.close();
    const tampered = await cellctl(["audit-log"], env);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/INVALID at record 1: hash does not match/);
  });

  it("an action that cannot be recorded is refused: no token is printed", async () => {
    // The registry path is a directory: the trail cannot be opened.
    const dir = mkdtempSync(join(tmpdir(), "cellwallet-oplog-bad-"));
    const run = await cellctl(["token", "--sub", "alice"], { PLACEMENT_SQLITE_PATH: dir });
    // 2: the command could not run (its registry cannot be opened), not 1 (a refusal by the rules).
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/refusing to mint an unrecorded token/);
  });
});
