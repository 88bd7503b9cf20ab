import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { canonicalJson, GENESIS_HASH, sha256Hex } from "@cellwallet/contract";

/**
 * Signed cell checkpoints: the anchor outside each wallet's own chain. A
 * checkpoint commits (by digest) to every wallet's head — balance, version and
 * hash of its last entry — and to the previous checkpoint, and is signed with
 * the cell's Ed25519 key. Rewriting a wallet's chain consistently then no
 * longer verifies: its entry at the checkpointed version differs from the head
 * the checkpoint signed. Pure: no I/O.
 */

/** One wallet's state as a checkpoint records it. */
export interface WalletHead {
  walletId: string;
  currency: string;
  /** Minor units. */
  balance: bigint;
  version: number;
  headHash: string;
}

/** The signed members of a checkpoint (numbers as JSON numbers, money as decimal strings of minor units). */
export interface CheckpointBody {
  cellId: string;
  /** 1, 2, 3… per cell. */
  sequence: number;
  /** Epoch ms. */
  createdAt: number;
  /** Where the per-wallet heads are stored (and exported from). */
  snapshotId: string;
  wallets: number;
  /** Sum of the wallets' versions. */
  entries: number;
  /** Sum of balances per currency, minor units as decimal strings. */
  totals: Record<string, string>;
  /** SHA-256 over the heads' lines in ascending walletId order (see headLine). */
  headsDigest: string;
  /** `hash` of the previous checkpoint; 64 zeros for the first. */
  previousHash: string;
  /** Fingerprint of the signing key's public half (see keyIdOf). */
  keyId: string;
}

export interface Checkpoint extends CheckpointBody {
  /** SHA-256 of the JCS canonical JSON of the body. */
  hash: string;
  /** Ed25519 signature of `hash` (its 64 hex characters as UTF-8), base64. */
  signature: string;
}

export interface CheckpointSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** A clearly marked DEVELOPMENT key (PKCS#8 DER, base64). It is public: production mode refuses it. */
export const DEVELOPMENT_CHECKPOINT_KEY = "MC4CAQAwBQYDK2VwBCIEIN1lxJNhPD3Avo67L0tw83ZoTrdhhdAUtfvgtFICfAGb";

/** The line of one wallet in the heads digest. */
export function headLine(head: WalletHead): string {
  return `${head.walletId}:${head.currency}:${head.headHash}:${head.balance}:${head.version}`;
}

/**
 * Streaming digest and summary of wallet heads, fed in strictly ascending
 * walletId order (an out-of-order or repeated wallet is an error, not a digest).
 */
export class HeadsDigest {
  private readonly hash = createHash("sha256");
  private last: string | undefined;
  wallets = 0;
  entries = 0;
  private readonly totalsMinor = new Map<string, bigint>();

  add(head: WalletHead): void {
    if (this.last !== undefined && !(head.walletId > this.last)) {
      throw new Error(`heads out of order: ${head.walletId} after ${this.last}`);
    }
    this.last = head.walletId;
    this.hash.update(`${headLine(head)}\n`, "utf8");
    this.wallets += 1;
    this.entries += head.version;
    this.totalsMinor.set(head.currency, (this.totalsMinor.get(head.currency) ?? 0n) + head.balance);
  }

  result(): { headsDigest: string; wallets: number; entries: number; totals: Record<string, string> } {
    const totals: Record<string, string> = {};
    for (const currency of [...this.totalsMinor.keys()].sort()) {
      totals[currency] = String(this.totalsMinor.get(currency));
    }
    return { headsDigest: this.hash.copy().digest("hex"), wallets: this.wallets, entries: this.entries, totals };
  }
}

export function sortHeads(heads: WalletHead[]): WalletHead[] {
  return heads.sort((a, b) => (a.walletId < b.walletId ? -1 : a.walletId > b.walletId ? 1 : 0));
}

export function checkpointHash(body: CheckpointBody): string {
  const members: CheckpointBody = {
    cellId: body.cellId,
    sequence: body.sequence,
    createdAt: body.createdAt,
    snapshotId: body.snapshotId,
    wallets: body.wallets,
    entries: body.entries,
    totals: body.totals,
    headsDigest: body.headsDigest,
    previousHash: body.previousHash,
    keyId: body.keyId,
  };
  return sha256Hex(canonicalJson(members));
}

/** The next checkpoint after `previous` (undefined: the first), signed. */
export function buildCheckpoint(
  input: {
    cellId: string;
    previous: Checkpoint | undefined;
    snapshotId: string;
    heads: HeadsDigest;
    now: number;
  },
  signer: CheckpointSigner,
): Checkpoint {
  const summary = input.heads.result();
  const body: CheckpointBody = {
    cellId: input.cellId,
    sequence: (input.previous?.sequence ?? 0) + 1,
    createdAt: Math.max(input.now, input.previous?.createdAt ?? 0),
    snapshotId: input.snapshotId,
    wallets: summary.wallets,
    entries: summary.entries,
    totals: summary.totals,
    headsDigest: summary.headsDigest,
    previousHash: input.previous?.hash ?? GENESIS_HASH,
    keyId: signer.keyId,
  };
  const hash = checkpointHash(body);
  const signature = sign(null, Buffer.from(hash, "utf8"), signer.privateKey).toString("base64");
  return { ...body, hash, signature };
}

/** Fingerprint of a public key: hex SHA-256 of its SPKI DER, first 32 characters. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 32);
}

/** A signer from a base64 PKCS#8 DER Ed25519 private key. */
export function signerFromPkcs8(base64: string): CheckpointSigner {
  const privateKey = createPrivateKey({ key: Buffer.from(base64, "base64"), format: "der", type: "pkcs8" });
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("the checkpoint signing key must be Ed25519");
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** A public key from base64 SPKI DER (what `publicKeyBase64` prints). */
export function publicKeyFromSpki(base64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });
  if (key.asymmetricKeyType !== "ed25519") throw new Error("checkpoint keys are Ed25519");
  return key;
}

export function publicKeyBase64(key: KeyObject): string {
  return key.export({ type: "spki", format: "der" }).toString("base64");
}

/**
 * Checks a checkpoint in isolation and against its predecessor: hash, link,
 * sequence, time and signature by a trusted key. Returns the first problem.
 */
export function checkCheckpoint(
  checkpoint: Checkpoint,
  previous: Checkpoint | undefined,
  trusted: ReadonlyMap<string, KeyObject>,
  cellId: string,
): string | undefined {
  if (checkpoint.cellId !== cellId) return `belongs to cell ${checkpoint.cellId}`;
  if (checkpoint.sequence !== (previous?.sequence ?? 0) + 1) {
    return `expected checkpoint ${(previous?.sequence ?? 0) + 1}, found ${checkpoint.sequence}`;
  }
  if (checkpoint.previousHash !== (previous?.hash ?? GENESIS_HASH)) {
    return "previousHash does not link to the previous checkpoint";
  }
  if (previous && checkpoint.createdAt < previous.createdAt) return "time goes backwards";
  if (checkpointHash(checkpoint) !== checkpoint.hash) return "hash does not match the checkpoint's contents";
  const key = trusted.get(checkpoint.keyId);
  if (!key) return `signed by an untrusted key ${checkpoint.keyId}`;
  let ok = false;
  try {
    ok = verify(null, Buffer.from(checkpoint.hash, "utf8"), key, Buffer.from(checkpoint.signature, "base64"));
  } catch {
    ok = false;
  }
  return ok ? undefined : "signature does not verify";
}

/** Storage form of a checkpoint (both adapters keep it as this JSON text). */
export function checkpointToJson(checkpoint: Checkpoint): string {
  return JSON.stringify(checkpoint);
}

/** Parses a stored checkpoint strictly: a malformed one is corruption, reported by verification. */
export function checkpointFromJson(text: string): Checkpoint {
  const c = JSON.parse(text) as Checkpoint;
  const strings = ["cellId", "snapshotId", "headsDigest", "previousHash", "keyId", "hash", "signature"] as const;
  const numbers = ["sequence", "createdAt", "wallets", "entries"] as const;
  for (const k of strings) if (typeof c[k] !== "string") throw new Error(`malformed checkpoint: ${k}`);
  for (const k of numbers) if (!Number.isSafeInteger(c[k])) throw new Error(`malformed checkpoint: ${k}`);
  if (typeof c.totals !== "object" || c.totals === null) throw new Error("malformed checkpoint: totals");
  return c;
}
