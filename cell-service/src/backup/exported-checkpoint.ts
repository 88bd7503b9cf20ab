import { type KeyObject, verify } from "node:crypto";
import { type Checkpoint, checkpointFromJson, checkpointHash, HeadsDigest, sortHeads } from "../domain/checkpoint.js";
import type { ReferenceHead } from "./loss-report.js";

/**
 * A checkpoint exported with `cellctl checkpoints --export` (kept outside the
 * platform), checked before it is believed: its hash, its signature by a
 * trusted key, and its heads against the signed digest.
 */
export function readExportedCheckpoint(
  text: string,
  cellId: string,
  trusted: ReadonlyMap<string, KeyObject>,
): { checkpoint: Checkpoint; heads: ReferenceHead[] } {
  let parsed: { checkpoint?: unknown; heads?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error("the checkpoint file is not JSON");
  }
  if (!parsed || typeof parsed !== "object" || !Array.isArray(parsed.heads) || !parsed.checkpoint) {
    throw new Error("not an exported checkpoint (cellctl checkpoints --export)");
  }
  const checkpoint = checkpointFromJson(JSON.stringify(parsed.checkpoint));
  if (checkpoint.cellId !== cellId) throw new Error(`the checkpoint belongs to cell ${checkpoint.cellId}`);
  if (checkpointHash(checkpoint) !== checkpoint.hash) throw new Error("the checkpoint's hash does not match");
  const key = trusted.get(checkpoint.keyId);
  if (!key) throw new Error(`the checkpoint is signed by an untrusted key ${checkpoint.keyId}`);
  if (!verify(null, Buffer.from(checkpoint.hash, "utf8"), key, Buffer.from(checkpoint.signature, "base64"))) {
    throw new Error("the checkpoint's signature does not verify");
  }
  const heads = sortHeads(
    (parsed.heads as Array<Record<string, unknown>>).map((h) => ({
      walletId: String(h.walletId),
      currency: String(h.currency),
      balance: BigInt(String(h.balance)),
      version: Number(h.version),
      headHash: String(h.headHash),
    })),
  );
  const digest = new HeadsDigest();
  for (const h of heads) digest.add(h);
  if (digest.result().headsDigest !== checkpoint.headsDigest) {
    throw new Error("the checkpoint's heads do not match its signed digest");
  }
  return { checkpoint, heads };
}
