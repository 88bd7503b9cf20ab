import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { GENESIS_HASH } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";
import {
  buildCheckpoint,
  type Checkpoint,
  checkCheckpoint,
  checkpointFromJson,
  checkpointHash,
  checkpointToJson,
  DEVELOPMENT_CHECKPOINT_KEY,
  HeadsDigest,
  headLine,
  keyIdOf,
  publicKeyBase64,
  publicKeyFromSpki,
  signerFromPkcs8,
  sortHeads,
  type WalletHead,
} from "./checkpoint.js";

const signer = signerFromPkcs8(DEVELOPMENT_CHECKPOINT_KEY);
const trusted = new Map<string, KeyObject>([[signer.keyId, signer.publicKey]]);
const head = (walletId: string, currency: string, balance: bigint, version: number): WalletHead => ({
  walletId,
  currency,
  balance,
  version,
  headHash: createHash("sha256").update(walletId).digest("hex"),
});
const HEADS = [head("w1", "USD", 500n, 3), head("w2", "EUR", 70n, 1), head("w3", "USD", 25n, 2)];

function digestOf(heads: WalletHead[]): HeadsDigest {
  const digest = new HeadsDigest();
  for (const h of heads) digest.add(h);
  return digest;
}

function chainOf(count: number, times: number[] = [1_000, 2_000, 3_000]): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      buildCheckpoint(
        { cellId: "cell-1", previous: out.at(-1), snapshotId: `s${i + 1}`, heads: digestOf(HEADS), now: times[i] ?? 0 },
        signer,
      ),
    );
  }
  return out;
}

describe("HeadsDigest", () => {
  it("sums wallets, entries (versions) and balances per currency, currencies in order", () => {
    expect(digestOf(HEADS).result()).toMatchObject({
      wallets: 3,
      entries: 6,
      totals: { EUR: "70", USD: "525" },
    });
  });

  it("is the SHA-256 of the heads' lines in walletId order", () => {
    const expected = createHash("sha256")
      .update(HEADS.map((h) => `${headLine(h)}\n`).join(""))
      .digest("hex");
    expect(digestOf(HEADS).result().headsDigest).toBe(expected);
    expect(headLine(HEADS[0] as WalletHead)).toBe(`w1:USD:${(HEADS[0] as WalletHead).headHash}:500:3`);
  });

  it("changes with any member of any head", () => {
    const base = digestOf(HEADS).result().headsDigest;
    const changed = HEADS.map((h) => (h.walletId === "w2" ? { ...h, balance: 71n } : h));
    expect(digestOf(changed).result().headsDigest).not.toBe(base);
  });

  it("refuses heads out of order or repeated, so a digest is never of an ambiguous list", () => {
    const digest = digestOf([HEADS[1] as WalletHead]);
    expect(() => digest.add(HEADS[0] as WalletHead)).toThrow("heads out of order: w1 after w2");
    expect(() => digest.add(HEADS[1] as WalletHead)).toThrow("heads out of order: w2 after w2");
    expect(sortHeads([...HEADS].reverse()).map((h) => h.walletId)).toEqual(["w1", "w2", "w3"]);
  });

  it("an empty cell has a digest of nothing and no totals", () => {
    expect(new HeadsDigest().result()).toEqual({
      headsDigest: createHash("sha256").digest("hex"),
      wallets: 0,
      entries: 0,
      totals: {},
    });
  });
});

describe("buildCheckpoint", () => {
  it("numbers checkpoints 1, 2, 3 per cell and links each to the previous one's hash", () => {
    const [first, second, third] = chainOf(3) as [Checkpoint, Checkpoint, Checkpoint];
    expect([first.sequence, second.sequence, third.sequence]).toEqual([1, 2, 3]);
    expect(first.previousHash).toBe(GENESIS_HASH);
    expect(second.previousHash).toBe(first.hash);
    expect(third.previousHash).toBe(second.hash);
    expect(first).toMatchObject({ cellId: "cell-1", snapshotId: "s1", wallets: 3, entries: 6, keyId: signer.keyId });
    expect(first.hash).toBe(checkpointHash(first));
  });

  it("never goes back in time, even if the clock does", () => {
    const [first, second] = chainOf(2, [5_000, 4_000]) as [Checkpoint, Checkpoint];
    expect([first.createdAt, second.createdAt]).toEqual([5_000, 5_000]);
  });
});

describe("checkCheckpoint", () => {
  const [first, second] = chainOf(2) as [Checkpoint, Checkpoint];

  it("accepts a chain of checkpoints signed by a trusted key", () => {
    expect(checkCheckpoint(first, undefined, trusted, "cell-1")).toBeUndefined();
    expect(checkCheckpoint(second, first, trusted, "cell-1")).toBeUndefined();
  });

  it("refuses another cell's checkpoint", () => {
    expect(checkCheckpoint(first, undefined, trusted, "cell-2")).toBe("belongs to cell cell-1");
  });

  it("refuses a gap, a repeat or a first checkpoint that is not number 1", () => {
    expect(checkCheckpoint(second, undefined, trusted, "cell-1")).toBe("expected checkpoint 1, found 2");
    expect(checkCheckpoint(first, first, trusted, "cell-1")).toBe("expected checkpoint 2, found 1");
  });

  it("refuses a checkpoint that does not link to its predecessor", () => {
    const other = chainOf(1, [1_001])[0] as Checkpoint;
    expect(other.hash).not.toBe(first.hash);
    expect(checkCheckpoint(second, other, trusted, "cell-1")).toBe(
      "previousHash does not link to the previous checkpoint",
    );
  });

  it("refuses time going backwards between two checkpoints", () => {
    const early = { ...second, createdAt: first.createdAt - 1 };
    expect(checkCheckpoint(early, first, trusted, "cell-1")).toBe("time goes backwards");
  });

  it("refuses contents changed after hashing: any signed member", () => {
    expect(checkCheckpoint({ ...first, totals: { EUR: "70", USD: "526" } }, undefined, trusted, "cell-1")).toBe(
      "hash does not match the checkpoint's contents",
    );
    expect(checkCheckpoint({ ...first, wallets: 2 }, undefined, trusted, "cell-1")).toBe(
      "hash does not match the checkpoint's contents",
    );
  });

  it("refuses a key it does not trust, and a signature that is not the key's over this hash", () => {
    expect(checkCheckpoint(first, undefined, new Map(), "cell-1")).toBe(`signed by an untrusted key ${signer.keyId}`);
    expect(checkCheckpoint({ ...first, signature: second.signature }, undefined, trusted, "cell-1")).toBe(
      "signature does not verify",
    );
    expect(checkCheckpoint({ ...first, signature: "not base64 !" }, undefined, trusted, "cell-1")).toBe(
      "signature does not verify",
    );
  });

  it("refuses a checkpoint re-signed by another key under the trusted key's id", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const forged = buildCheckpoint(
      { cellId: "cell-1", previous: undefined, snapshotId: "s1", heads: digestOf(HEADS), now: 1_000 },
      { privateKey, publicKey, keyId: signer.keyId },
    );
    expect(checkCheckpoint(forged, undefined, trusted, "cell-1")).toBe("signature does not verify");
  });
});

describe("checkpoint keys and storage form", () => {
  it("names a key by the first 32 hex characters of its SPKI's SHA-256, and round-trips its public half", () => {
    const spki = signer.publicKey.export({ type: "spki", format: "der" });
    expect(signer.keyId).toBe(createHash("sha256").update(spki).digest("hex").slice(0, 32));
    expect(keyIdOf(publicKeyFromSpki(publicKeyBase64(signer.publicKey)))).toBe(signer.keyId);
  });

  it("accepts Ed25519 keys only", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pkcs8 = ec.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
    expect(() => signerFromPkcs8(pkcs8)).toThrow("the checkpoint signing key must be Ed25519");
    const spki = ec.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    expect(() => publicKeyFromSpki(spki)).toThrow("checkpoint keys are Ed25519");
  });

  it("stores a checkpoint as JSON and reads it back unchanged, still valid", () => {
    const [first] = chainOf(1) as [Checkpoint];
    const back = checkpointFromJson(checkpointToJson(first));
    expect(back).toEqual(first);
    expect(checkCheckpoint(back, undefined, trusted, "cell-1")).toBeUndefined();
  });

  it.each([
    ["cellId", 7],
    ["signature", null],
    ["sequence", "1"],
    ["createdAt", 1.5],
    ["totals", null],
  ])("refuses a stored checkpoint whose %s is malformed", (member, value) => {
    const [first] = chainOf(1) as [Checkpoint];
    const text = JSON.stringify({ ...first, [member]: value });
    expect(() => checkpointFromJson(text)).toThrow(`malformed checkpoint: ${member}`);
  });
});
