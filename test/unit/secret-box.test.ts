// AES-256-GCM sealing of secrets at rest: round trip, binding to the owner,
// tamper and wrong-key detection, and the accepted key spellings.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseDataKey, SealedValueError } from "../../src/auth/secret-box.js";

const key = randomBytes(32);
const box = createSecretBox(key);
const secret = Buffer.from("a TOTP key, twenty b");

describe("secret box", () => {
  it("opens what it sealed, for the same owner; the sealed text shows neither key nor secret", () => {
    const sealed = box.seal(secret, "totp:user-1");
    expect(box.open(sealed, "totp:user-1")).toEqual(secret);
    expect(sealed).toMatch(new RegExp(`^v1\\.${box.keyId}\\.[A-Za-z0-9_-]+$`));
    expect(sealed).not.toContain(secret.toString("base64url"));
    expect(sealed).not.toContain(key.toString("hex").slice(0, 8));
    expect(box.seal(secret, "totp:user-1")).not.toBe(sealed); // a fresh nonce each time
  });

  it("refuses a value moved to another owner, tampered with, cut short, or sealed under another key", () => {
    const sealed = box.seal(secret, "totp:user-1");
    expect(() => box.open(sealed, "totp:user-2")).toThrow(SealedValueError);
    const body = Buffer.from(sealed.split(".")[2]!, "base64url");
    body[14] = body[14]! ^ 1;
    expect(() => box.open(`v1.${box.keyId}.${body.toString("base64url")}`, "totp:user-1")).toThrow(SealedValueError);
    expect(() => box.open(`v1.${box.keyId}.AAAA`, "totp:user-1")).toThrow(SealedValueError);
    expect(() => box.open("v2.x.y", "totp:user-1")).toThrow(SealedValueError);
    const other = createSecretBox(randomBytes(32));
    expect(() => other.open(sealed, "totp:user-1")).toThrow(/sealed under key/);
  });

  it("reads the key as 64 hex digits, base64 or base64url of 32 bytes, and nothing else", () => {
    expect(parseDataKey(key.toString("hex"))).toEqual(key);
    expect(parseDataKey(key.toString("base64"))).toEqual(key);
    expect(parseDataKey(` ${key.toString("base64url")}\n`)).toEqual(key);
    for (const bad of ["", "short", randomBytes(16).toString("base64"), randomBytes(33).toString("hex"), "not base64 at all!"]) {
      expect(parseDataKey(bad), bad).toBeNull();
    }
  });
});
