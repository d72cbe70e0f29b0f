// TOTP against the published test vectors (RFC 6238 appendix B, RFC 4226
// appendix D) and the rules Latchkey adds: the window, replay, base32 as
// people type it, the otpauth URI.
import { describe, expect, it } from "vitest";
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  hotp,
  matchTotp,
  otpauthUrl,
  totpAt,
  totpStep,
} from "../../src/auth/totp.js";

const RFC_SECRET = Buffer.from("12345678901234567890"); // the SHA-1 seed of both RFCs

describe("HOTP (RFC 4226 appendix D)", () => {
  it("matches every published value", () => {
    const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    expect(expected.map((_, counter) => hotp(RFC_SECRET, counter))).toEqual(expected);
  });
});

describe("TOTP (RFC 6238 appendix B, SHA-1)", () => {
  const vectors: [seconds: number, code: string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];
  it.each(vectors)("at %i s the 8-digit code is %s, the 6-digit one its last six", (seconds, code) => {
    expect(totpAt(RFC_SECRET, seconds * 1000, 8)).toBe(code);
    expect(totpAt(RFC_SECRET, seconds * 1000)).toBe(code.slice(2));
  });
});

describe("matchTotp", () => {
  const now = 1111111111_000;
  const step = totpStep(now);
  const codeAt = (offset: number) => hotp(RFC_SECRET, step + offset);

  it("accepts the code of this step and of one step either side, naming the step", () => {
    expect(matchTotp(RFC_SECRET, codeAt(0), now, null)).toBe(step);
    expect(matchTotp(RFC_SECRET, codeAt(-1), now, null)).toBe(step - 1);
    expect(matchTotp(RFC_SECRET, codeAt(1), now, null)).toBe(step + 1);
  });

  it("refuses codes two steps away, wrong codes and anything not six digits", () => {
    expect(matchTotp(RFC_SECRET, codeAt(-2), now, null)).toBeNull();
    expect(matchTotp(RFC_SECRET, codeAt(2), now, null)).toBeNull();
    const wrong = String((Number(codeAt(0)) + 1) % 1_000_000).padStart(6, "0");
    expect(matchTotp(RFC_SECRET, wrong, now, null)).toBeNull();
    for (const bad of ["", "12345", "1234567", "abcdef", `${codeAt(0)}x`]) expect(matchTotp(RFC_SECRET, bad, now, null)).toBeNull();
  });

  it("reads a code typed with spaces", () => {
    const code = codeAt(0);
    expect(matchTotp(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, now, null)).toBe(step);
  });

  it("never accepts a step at or before the last one used (replay, or an older code)", () => {
    expect(matchTotp(RFC_SECRET, codeAt(0), now, step)).toBeNull();
    expect(matchTotp(RFC_SECRET, codeAt(-1), now, step)).toBeNull();
    expect(matchTotp(RFC_SECRET, codeAt(1), now, step)).toBe(step + 1);
  });
});

describe("base32", () => {
  it("matches RFC 4648's test vectors (unpadded) and reads them back in any case, with spaces", () => {
    const vectors: [string, string][] = [["f", "MY"], ["fo", "MZXQ"], ["foo", "MZXW6"], ["foob", "MZXW6YQ"], ["fooba", "MZXW6YTB"], ["foobar", "MZXW6YTBOI"]];
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded.toLowerCase().replace(/(.{4})/g, "$1 "))?.toString()).toBe(plain);
    }
    expect(base32Decode("MZXW6===")?.toString()).toBe("foo");
    expect(base32Decode("not base32!")).toBeNull();
  });

  it("round-trips generated secrets (160 bits, never repeated)", () => {
    const secrets = Array.from({ length: 100 }, generateTotpSecret);
    expect(new Set(secrets.map((s) => s.toString("hex"))).size).toBe(100);
    for (const s of secrets) {
      expect(s).toHaveLength(20);
      expect(base32Decode(base32Encode(s))).toEqual(s);
    }
  });
});

describe("otpauthUrl", () => {
  it("names the issuer and account and carries the key and parameters", () => {
    const url = new URL(otpauthUrl({ issuer: "Latchkey Corp", account: "ada@example.com", secret: RFC_SECRET }));
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname)).toBe("/Latchkey Corp:ada@example.com");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      secret: base32Encode(RFC_SECRET),
      issuer: "Latchkey Corp",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
  });
});
