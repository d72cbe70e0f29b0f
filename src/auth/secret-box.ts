// Secrets Latchkey must read back (a TOTP key; a hash would not do), sealed
// at rest with AES-256-GCM under DATA_ENCRYPTION_KEY. Each value is bound to
// what it belongs to (the associated data, e.g. "totp:<user id>"), so a sealed
// value copied to another row does not open. The format names its version
// and key, so a later key can be told from this one:
//   v1.<key id: 8 hex>.<base64url(12-byte nonce | ciphertext | 16-byte tag)>
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

/** A sealed value that does not open: another key, another owner, or tampered with. */
export class SealedValueError extends Error {
  constructor(reason: string) {
    super(`Sealed value does not open: ${reason}`);
    this.name = "SealedValueError";
  }
}

export interface SecretBox {
  /** The key's id: the first 8 hex digits of a SHA-256 of it (not the key). */
  readonly keyId: string;
  seal(plain: Uint8Array, associatedData: string): string;
  /** Throws SealedValueError when the value does not open with this key for this owner. */
  open(sealed: string, associatedData: string): Buffer;
}

/** The key id a sealed value names, or null when it is not one. */
export function sealedKeyId(sealed: string): string | null {
  const [version, id] = sealed.split(".");
  return version === VERSION && id ? id : null;
}

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== DATA_KEY_BYTES) throw new Error(`The data encryption key must be ${DATA_KEY_BYTES} bytes`);
  const keyId = createHash("sha256").update("latchkey data key id\0").update(key).digest("hex").slice(0, 8);
  return {
    keyId,
    seal(plain, associatedData) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, nonce).setAAD(Buffer.from(associatedData));
      const body = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${keyId}.${body.toString("base64url")}`;
    },
    open(sealed, associatedData) {
      const [version, id, encoded, extra] = sealed.split(".");
      if (version !== VERSION || !id || encoded === undefined || extra !== undefined) throw new SealedValueError("unknown format");
      if (id !== keyId) throw new SealedValueError(`sealed under key ${id}, DATA_ENCRYPTION_KEY is key ${keyId}`);
      const body = Buffer.from(encoded, "base64url");
      if (body.length < NONCE_BYTES + TAG_BYTES) throw new SealedValueError("too short");
      const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, NONCE_BYTES)).setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new SealedValueError("authentication failed (another owner, or tampered with)");
      }
    },
  };
}

/**
 * DATA_ENCRYPTION_KEY as written in the environment: 32 bytes as 64 hex
 * digits or as base64/base64url (`openssl rand -base64 32`). Null when it is
 * not one of those.
 */
export function parseDataKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed, "base64");
  return bytes.length === DATA_KEY_BYTES ? bytes : null;
}
