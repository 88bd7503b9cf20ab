import { createHash } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEVELOPMENT_CHECKPOINT_KEY, signerFromPkcs8 } from "@cellwallet/cell-service";
import { minorFromFormatted } from "@cellwallet/contract";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { type Launcher, startLauncher } from "./launcher-process.js";

/**
 * The restore drill, as an operator runs it with `npm start` up: write, back
 * up cell-2 online, write more, destroy cell-2's data, restore it with
 * --force; the restore reports exactly the writes after the backup as lost
 * (measured against a later exported checkpoint), keeps everything before,
 * and afterwards `cellctl verify --all` and `cellctl reconcile --all` are clean.
 * Bad input (foreign, damaged, wrongly signed backup, unknown cell) changes nothing.
 */
const A_KEY = "MC4CAQAwBQYDK2VwBCIEIA8QULA5eprjMAOZdUi5IF5dF4r5DvW1dnfaHSvNkUfs"; // another platform's (test) key

describe("backup and restore drill (embedded store, npm start as a process)", () => {
  let launcher: Launcher;
  const wallets = new Map<string, string>();
  let ops: string;
  const api = () => launcher.api();
  const cellctl = (args: string[], extra: Record<string, string> = {}) =>
    runCellctl(args, { ...launcher.env, ...extra });
  /** As a careful client: a 503 (a cell restarting) is retried with the same Idempotency-Key. */
  const untilServed = async (send: () => Promise<Awaited<ReturnType<typeof http>>>) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await send();
      if (res.status !== 503 || Date.now() > deadline) return res;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const deposit = async (user: string, amount: string, key: string) => {
    const res = await untilServed(() =>
      http(api(), "POST", `/api/v1/wallets/${wallets.get(user)}/deposit`, {
        token: ops,
        idempotencyKey: key,
        body: { amount },
      }),
    );
    expect(res.status, res.text).toBe(201);
  };
  const balance = async (user: string) =>
    (await untilServed(() => http(api(), "GET", `/api/v1/wallets/${wallets.get(user)}`, { token: ops }))).body;
  /** Money counted once: the platform's reconciled balances are exactly what the four users see; chains valid. */
  const expectBooksAsUsersSeeThem = async () => {
    const reconcile = await cellctl(["reconcile", "--all", "--json"]);
    expect(reconcile.code, reconcile.stdout).toBe(0);
    let seen = 0n;
    for (const u of ["u0", "u1", "u2", "u3"]) seen += minorFromFormatted((await balance(u)).balance, "USD");
    expect(JSON.parse(reconcile.stdout).platform.currencies.USD.balances).toBe(String(seen));
    expect((await cellctl(["verify", "--all"])).code).toBe(0);
  };
  /** The latest checkpoint of cell-2 once it covers `entries` ledger entries. */
  const checkpointCovering = async (entries: number): Promise<number> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const listed = await cellctl(["checkpoints", "--cell", "cell-2", "--json"]);
      const items = JSON.parse(listed.stdout).items as { sequence: number; entries: number }[];
      const last = items.at(-1);
      if (last && last.entries === entries) return last.sequence;
      if (Date.now() > deadline) throw new Error(`no checkpoint with ${entries} entries: ${listed.stdout}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  beforeAll(async () => {
    launcher = await startLauncher({ CHECKPOINT_INTERVAL_MS: "1000" });
    const placement = new SqlitePlacementStore({ path: join(launcher.dataDir, "control-plane", "placement.sqlite") });
    for (const [i, user] of ["u0", "u1", "u2", "u3"].entries()) {
      await placement.setOverride(user, i % 2 === 0 ? "cell-1" : "cell-2");
    }
    await placement.close();
    ops = await token("ops", "wallet:operator wallet:auditor");
    for (const user of ["u0", "u1", "u2", "u3"]) {
      const created = await http(api(), "POST", "/api/v1/wallets", { token: ops, body: { userId: user } });
      expect(created.status).toBe(201);
      wallets.set(user, created.body.walletId);
    }
  }, 120_000);

  afterAll(async () => {
    if (launcher) await launcher.stop();
  });

  it("backs up online, restores after the data is destroyed, reports exactly the writes after the backup as lost", async () => {
    // Before the backup: deposits in both cells and a cross-cell transfer into cell-2.
    for (const user of ["u0", "u1", "u2", "u3"]) await deposit(user, "10.00", `seed-${user}`);
    const u0 = await token("u0");
    const transfer = await http(api(), "POST", "/api/v1/wallets/transfer", {
      token: u0,
      idempotencyKey: "t-before",
      body: { fromWalletId: wallets.get("u0"), toWalletId: wallets.get("u1"), amount: "4.00" },
    });
    expect(transfer.status).toBe(201);
    const atBackup = { u1: await balance("u1"), u3: await balance("u3") };
    expect(atBackup.u1).toMatchObject({ balance: "14.00", version: 2 });

    // A checkpoint from before the backup: it cannot measure the loss, so a restore against it is refused.
    const olderSequence = await checkpointCovering(3);
    const olderCheckpoint = await cellctl(["checkpoints", "--cell", "cell-2", "--export", String(olderSequence)]);
    expect(olderCheckpoint.code).toBe(0);
    const olderCheckpointFile = join(launcher.dataDir, "checkpoint-before-backup.json");
    writeFileSync(olderCheckpointFile, olderCheckpoint.stdout);

    const out = join(launcher.dataDir, "drill", "cell-2-before");
    const backupStarted = Date.now();
    const created = await cellctl(["backup", "create", "--cell", "cell-2", "--out", out]);
    console.log(`backup create took ${Date.now() - backupStarted} ms`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("cell-2 at ");
    expect(created.stdout).toContain("2 wallets, 3 entries");

    // After the backup: 3 deposits for u1, 2 for u3 (5 entries), and cell-1 keeps writing too.
    for (let n = 0; n < 3; n++) await deposit("u1", "1.00", `after-u1-${n}`);
    for (let n = 0; n < 2; n++) await deposit("u3", "2.50", `after-u3-${n}`);
    await deposit("u0", "7.00", "after-u0");
    const sequence = await checkpointCovering(8);
    const exported = await cellctl(["checkpoints", "--cell", "cell-2", "--export", String(sequence)]);
    expect(exported.code).toBe(0);
    const checkpointFile = join(launcher.dataDir, "drill", "checkpoint.json");
    writeFileSync(checkpointFile, exported.stdout);

    const listed = await cellctl(["backup", "list", "--json"], { WALLET_DATA_DIR: launcher.dataDir });
    expect(listed.code).toBe(0);
    const verified = await cellctl(["backup", "verify", out]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^valid: cell-2 .* every chain verified/);
    expect((await cellctl(["backup", "list", "--dir", join(launcher.dataDir, "drill")])).stdout).toMatch(
      /cell-2\s+\S+\s+2\s+3\s+/,
    );

    const olderRefused = await cellctl([
      "backup",
      "restore",
      out,
      "--cell",
      "cell-2",
      "--force",
      "--checkpoint",
      olderCheckpointFile,
    ]);
    expect(olderRefused.code, olderRefused.stdout).toBe(1);
    expect(olderRefused.stderr.trim()).toMatch(
      new RegExp(`^cellctl: refused: .*checkpoint ${olderSequence} \\(.*\\) is older than the backup .*`),
    );
    expect(await balance("u1")).toMatchObject({ balance: "17.00", version: 5 }); // nothing restored

    // Destroy cell-2's data (its processes still run on the deleted files).
    const ledger = join(launcher.dataDir, "cell-2", "ledger.sqlite");
    for (const f of [ledger, `${ledger}-wal`, `${ledger}-shm`]) rmSync(f, { force: true });

    const refused = await cellctl(["backup", "restore", out, "--cell", "cell-2"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^cellctl: refused: cell-2 is live \([123] replicas ready\); --force/);

    const restoreStarted = Date.now();
    const restored = await cellctl([
      "backup",
      "restore",
      out,
      "--cell",
      "cell-2",
      "--force",
      "--checkpoint",
      checkpointFile,
    ]);
    expect(restored.code, restored.stderr).toBe(0);
    console.log(`${restored.stdout}restore (verify, swap, cell back ready) took ${Date.now() - restoreStarted} ms`);
    expect(restored.stdout).toContain("2 wallets, 3 entries, every chain verified");
    expect(restored.stdout).toContain(`loss relative to checkpoint ${sequence} (`);
    expect(restored.stdout).toContain("5 entries in 2 wallets written after the backup");
    expect(restored.stdout).toMatch(/writes after checkpoint \d+ \(\S+\) are lost too and not counted here/);
    expect(restored.stdout).toMatch(
      /the lost entries themselves are not listed: checkpoint \d+ \(\S+\) holds wallet heads only/,
    );
    expect(restored.stdout).toContain(
      `${wallets.get("u1")}: version 5 -> 2 (3 entries, balance difference 300 minor units)`,
    );
    expect(restored.stdout).toContain(
      `${wallets.get("u3")}: version 3 -> 1 (2 entries, balance difference 500 minor units)`,
    );
    expect(restored.stdout).toContain("processes restarted by the launcher: ready");
    expect(restored.stdout).not.toContain("migrated into cell-2");
    // The restore's own kill is no crash: the launcher says why it restarts them and counts no restart.
    expect(launcher.output()).toMatch(/cell-2\S* stopped by cellctl backup restore of cell-2: restarting it/);
    expect(launcher.output()).not.toMatch(/cell-2\S* exited unexpectedly/);
    expect(
      launcher
        .processes()
        .filter((p) => p.cellId === "cell-2")
        .map((p) => p.restarts),
    ).toEqual([0, 0, 0]);

    // cell-2 is back at the backup's state; cell-1 lost nothing; both write again.
    expect(await balance("u1")).toMatchObject({ balance: atBackup.u1.balance, version: 2 });
    expect(await balance("u3")).toMatchObject({ balance: atBackup.u3.balance, version: 1 });
    expect(await balance("u0")).toMatchObject({ balance: "13.00", version: 3 });
    await deposit("u1", "0.50", "after-restore");
    const verify = await cellctl(["verify", "--all"]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const reconcile = await cellctl(["reconcile", "--all"]);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
  }, 180_000);

  it("refuses bad input with one line and a non-zero exit, changing nothing", async () => {
    const out = join(launcher.dataDir, "drill", "cell-2-before");
    const manifestBefore = readFileSync(join(out, "manifest.json"), "utf8");
    const ledger = join(launcher.dataDir, "cell-2", "ledger.sqlite");
    const replacedBefore = readdirSync(join(launcher.dataDir, "cell-2")).filter((f) => f.startsWith("replaced-"));
    const oneLine = (r: { stderr: string }) => expect(r.stderr.trim().split("\n")).toHaveLength(1);

    const unknown = await cellctl(["backup", "restore", out, "--cell", "cell-9"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe("cellctl: unknown cell cell-9");
    expect((await cellctl(["backup", "create", "--cell", "cell-9"])).code).toBe(2);

    const foreign = await cellctl(["backup", "restore", out, "--cell", "cell-1", "--force"]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain("the backup is of cell-2, not cell-1");
    oneLine(foreign);

    const notBackup = await cellctl(["backup", "verify", launcher.dataDir]);
    expect(notBackup.code).toBe(2);
    oneLine(notBackup);

    // A damaged copy: one byte of the ledger file flipped.
    const damaged = join(launcher.dataDir, "drill", "damaged");
    cpSync(out, damaged, { recursive: true });
    const bytes = readFileSync(join(damaged, "ledger.sqlite"));
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    writeFileSync(join(damaged, "ledger.sqlite"), bytes);
    const corrupt = await cellctl(["backup", "verify", damaged]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr.trim()).toBe(
      "cellctl: backup INVALID: the ledger file's hash does not match the manifest (damaged)",
    );
    const corruptRestore = await cellctl(["backup", "restore", damaged, "--cell", "cell-2", "--force"]);
    expect(corruptRestore.code).toBe(1);
    oneLine(corruptRestore);

    // Checked with another platform's key: the checkpoint signature is not trusted.
    const wrongKey = await cellctl(["backup", "verify", out], { CHECKPOINT_SIGNING_KEY: A_KEY });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^cellctl: backup INVALID: checkpoint 1: signed by an untrusted key/);
    const wrongRestore = await cellctl(["backup", "restore", out, "--cell", "cell-2", "--force"], {
      CHECKPOINT_SIGNING_KEY: A_KEY,
    });
    expect(wrongRestore.code).toBe(1);
    oneLine(wrongRestore);

    // Production mode never trusts the development checkpoint key (its private half is in the repository), in
    // either role; the platform's processes here use it, so only this cellctl runs in production mode.
    const developmentPublic = signerFromPkcs8(DEVELOPMENT_CHECKPOINT_KEY)
      .publicKey.export({ type: "spki", format: "der" })
      .toString("base64");
    const production = { WALLET_MODE: "production", WALLET_JWT_SECRET: `prod-${"x".repeat(40)}` };
    for (const [extra, message] of [
      [
        { CHECKPOINT_SIGNING_KEY: DEVELOPMENT_CHECKPOINT_KEY },
        /needs a CHECKPOINT_SIGNING_KEY .*not the development key/,
      ],
      [
        { CHECKPOINT_TRUSTED_KEYS: developmentPublic },
        /refuses the development checkpoint key in CHECKPOINT_TRUSTED_KEYS/,
      ],
    ] as const) {
      const refused = await cellctl(["backup", "verify", out], { ...production, ...extra });
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(message);
      oneLine(refused);
    }

    // Nothing changed: the backup, the cell's ledger in place, no files moved aside, the cell serving.
    expect(readFileSync(join(out, "manifest.json"), "utf8")).toBe(manifestBefore);
    expect(existsSync(ledger)).toBe(true);
    expect(readdirSync(join(launcher.dataDir, "cell-2")).filter((f) => f.startsWith("replaced-"))).toEqual(
      replacedBefore,
    );
    expect(
      createHash("sha256")
        .update(readFileSync(join(out, "ledger.sqlite")))
        .digest("hex"),
    ).toBe(JSON.parse(manifestBefore).file.sha256);
    expect((await balance("u1")).balance).toBe("14.50");
  }, 120_000);

  it("restores a wallet that moved to another cell after the backup read-only: one live copy, money counted once", async () => {
    const out = join(launcher.dataDir, "drill", "cell-2-before-move");
    expect((await cellctl(["backup", "create", "--cell", "cell-2", "--out", out])).code).toBe(0);
    const u3 = wallets.get("u3") as string;
    const moved = await cellctl(["users", "migrate", "u3", "--to", "cell-1", "--yes"]);
    expect(moved.code, moved.stderr).toBe(0);
    await deposit("u3", "1.00", "after-move-u3");
    const u3Balance = (await balance("u3")).balance as string;

    const restored = await cellctl(["backup", "restore", out, "--cell", "cell-2", "--force"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain("moved to other cells since the backup, restored read-only");
    expect(restored.stdout).toContain(`  ${u3} -> cell-1\n`);
    // The restored cell-2 answers for u3's wallet only with where it went; the router serves it from cell-1.
    expect((await balance("u3")).balance).toBe(u3Balance);
    // Money is counted once: the platform's balances are exactly what the four users see.
    await expectBooksAsUsersSeeThem();
    await deposit("u3", "0.25", "after-restore-u3");
  }, 120_000);

  it("recovers a wallet migrated into the cell after its backup from its old cell's read-only copy", async () => {
    const out = join(launcher.dataDir, "drill", "cell-2-before-move-in");
    expect((await cellctl(["backup", "create", "--cell", "cell-2", "--out", out])).code).toBe(0);
    const u2 = wallets.get("u2") as string;
    const moved = await cellctl(["users", "migrate", "u2", "--to", "cell-2", "--yes"]);
    expect(moved.code, moved.stderr).toBe(0);
    const atMove = await balance("u2");
    await deposit("u2", "3.00", "after-move-in-u2"); // written in cell-2 after its backup: the loss window

    const restored = await cellctl(["backup", "restore", out, "--cell", "cell-2", "--force"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(
      "migrated into cell-2 since the backup, so not in it as the cell's own (until recovered they answer 404, or 503 moved where the backup holds the read-only copy an earlier move away left): 1 wallets",
    );
    // Compared with the replaced ledger: u2's entries are listed, and marked as what recover-migrated brings back.
    expect(restored.stdout).toContain(
      `  ${u2}: version ${atMove.version + 1} -> 0 (${atMove.version + 1} entries, balance difference`,
    );
    expect(restored.stdout).toMatch(
      /; migrated in since the backup: recover-migrated brings back its entries up to that move\): DEPOSIT \d+/,
    );
    expect(restored.stdout).toContain(`  ${u2} (u2) <- cell-1\n`);
    expect(restored.stdout).toContain("next: cellctl backup recover-migrated --cell cell-2, then cellctl verify");
    // The placement sends u2 to cell-2, which does not have the wallet: an existing wallet answers 404.
    const missing = await untilServed(() => http(api(), "GET", `/api/v1/wallets/${u2}`, { token: ops }));
    expect(missing.status).toBe(404);

    const recovered = await cellctl(["backup", "recover-migrated", "--cell", "cell-2", "--json"]);
    expect(recovered.code, recovered.stdout + recovered.stderr).toBe(0);
    expect(JSON.parse(recovered.stdout).outcomes).toEqual([
      {
        userId: "u2",
        walletId: u2,
        sourceCellId: "cell-1",
        outcome: "recovered",
        version: atMove.version,
        balance: atMove.balance,
        currency: "USD",
      },
    ]);
    // Its whole history up to the move, chain valid, writable again in cell-2 only.
    expect(await balance("u2")).toMatchObject({ balance: atMove.balance, version: atMove.version });
    const audit = await http(api(), "GET", `/api/v1/wallets/${u2}/audit`, { token: ops });
    expect(audit.body).toMatchObject({ valid: true, entries: atMove.version });
    await deposit("u2", "0.75", "after-recovery-u2");
    const located = await cellctl(["users", "locate", "u2", "--json"]);
    expect(JSON.parse(located.stdout)).toMatchObject({
      placement: { cellId: "cell-2" },
      wallet: { state: "active", walletId: u2 },
    });

    // Again: nothing left to recover. The money is counted once, every chain is valid.
    const again = await cellctl(["backup", "recover-migrated", "--cell", "cell-2"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("cell-2: no wallet migrated in to recover\n");
    await expectBooksAsUsersSeeThem();
    const trail = JSON.parse((await cellctl(["audit-log", "--json"])).stdout).records;
    expect(trail.map((r: { action: string }) => r.action)).toContain("backup.recover-migrated");

    const unknown = await cellctl(["backup", "recover-migrated", "--cell", "cell-9"]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, "cellctl: unknown cell cell-9"]);
  }, 120_000);
});
