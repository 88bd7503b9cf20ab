import type { KeyObject } from "node:crypto";
import {
  type CheckpointSigner,
  DEVELOPMENT_CHECKPOINT_KEY,
  keyIdOf,
  publicKeyFromSpki,
  signerFromPkcs8,
} from "./domain/checkpoint.js";

export interface CheckpointKeys {
  /** CHECKPOINT_SIGNING_KEY (the development key outside production); undefined in production when unset. */
  signer: CheckpointSigner | undefined;
  /** Public keys whose checkpoint signatures are accepted, by keyId: the signer's and CHECKPOINT_TRUSTED_KEYS. */
  trusted: Map<string, KeyObject>;
}

/**
 * The checkpoint keys from the environment, read the same way by the cells and by cellctl (backups, restores).
 * The development key's private half is in this repository, so production mode refuses it in either role: as the
 * key a cell signs with, and as a trusted public key (anyone could sign checkpoints that verification accepts).
 */
export function checkpointKeysFromEnv(env: NodeJS.ProcessEnv, production: boolean): CheckpointKeys {
  const development = signerFromPkcs8(DEVELOPMENT_CHECKPOINT_KEY);
  const signingText = env.CHECKPOINT_SIGNING_KEY || (production ? undefined : DEVELOPMENT_CHECKPOINT_KEY);
  let signer: CheckpointSigner | undefined;
  if (signingText !== undefined) {
    try {
      signer = signerFromPkcs8(signingText);
    } catch (error) {
      throw new Error(`CHECKPOINT_SIGNING_KEY is not an Ed25519 PKCS#8 DER key in base64: ${(error as Error).message}`);
    }
    if (production && signer.keyId === development.keyId) {
      throw new Error(
        "production mode needs a CHECKPOINT_SIGNING_KEY (Ed25519 PKCS#8 DER, base64), not the development key",
      );
    }
  }
  const trusted = new Map<string, KeyObject>(signer ? [[signer.keyId, signer.publicKey]] : []);
  for (const text of (env.CHECKPOINT_TRUSTED_KEYS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean)) {
    const key = publicKeyFromSpki(text);
    const keyId = keyIdOf(key);
    if (production && keyId === development.keyId) {
      throw new Error("production mode refuses the development checkpoint key in CHECKPOINT_TRUSTED_KEYS");
    }
    trusted.set(keyId, key);
  }
  return { signer, trusted };
}
