import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { clearSessionCookie, getSessionToken, presentedSessionTokens, readSessionCookie, sessionCookie } from "../../src/auth/cookies.js";
import { generatePublicId, generateToken, hashToken, isWellFormedToken } from "../../src/auth/tokens.js";

describe("tokens", () => {
  it("are 32 random bytes in base64url, never repeated", () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateToken));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) {
      expect(Buffer.from(t, "base64url")).toHaveLength(32);
      expect(isWellFormedToken(t)).toBe(true);
    }
  });

  it("are stored only as their SHA-256", () => {
    const t = generateToken();
    expect(hashToken(t)).toBe(createHash("sha256").update(t).digest("hex"));
    expect(hashToken(t)).not.toContain(t);
  });

  it("have public ids that are not tokens", () => {
    expect(isWellFormedToken(generatePublicId())).toBe(false);
  });
});

describe("cookies", () => {
  const dev = { secure: false };
  const prod = { secure: true };
  const token = generateToken();

  it("use the seed's exact strings in development", () => {
    expect(sessionCookie(token, { ...dev, maxAgeSeconds: 60 })).toBe(`session=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=60`);
    expect(clearSessionCookie(dev)).toBe("session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
  });

  it("use __Host- and Secure in production, for setting and clearing alike", () => {
    expect(sessionCookie(token, { ...prod, maxAgeSeconds: 60 })).toBe(`__Host-session=${token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=60`);
    expect(clearSessionCookie(prod)).toBe("__Host-session=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0");
  });

  it("read the token among other cookies", () => {
    expect(getSessionToken(`a=1; session=${token}; b=2`, dev)).toBe(token);
    expect(getSessionToken(`xsession=${token}`, dev)).toBeUndefined();
    expect(getSessionToken(`session=${token}`, prod)).toBeUndefined();
    expect(getSessionToken(`__Host-session=${token}`, prod)).toBe(token);
    expect(getSessionToken(new Request("http://x/", { headers: { cookie: `session=${token}` } }), dev)).toBe(token);
  });

  it("tell a missing cookie from a malformed one", () => {
    expect(readSessionCookie(undefined, dev)).toEqual({ kind: "none" });
    expect(readSessionCookie("other=1", dev)).toEqual({ kind: "none" });
    expect(readSessionCookie("session=abc", dev)).toEqual({ kind: "malformed" });
    expect(readSessionCookie(`session=${token}x`, dev)).toEqual({ kind: "malformed" });
  });

  // Issue 15 item 12: a planted sibling cookie or a cookie bomb must not log the user out.
  it("call several session cookies or an oversized header ambiguous, whatever the values", () => {
    const other = generateToken();
    expect(readSessionCookie(`session=${token}; session=${other}`, dev)).toEqual({ kind: "ambiguous" });
    expect(readSessionCookie(`session=${token}; a=1;session=abc`, dev)).toEqual({ kind: "ambiguous" });
    expect(readSessionCookie(`session=; session=`, dev)).toEqual({ kind: "ambiguous" });
    expect(readSessionCookie(`session=${token}; pad=${"x".repeat(9000)}`, dev)).toEqual({ kind: "ambiguous" });
    expect(getSessionToken(`session=${token}; session=${other}`, dev)).toBeUndefined();
    expect(readSessionCookie(`__Host-session=${token}; __Host-session=${other}`, prod)).toEqual({ kind: "ambiguous" });
  });

  it("in production prefer the __Host- cookie: a plain session cookie a sibling planted is not ours", () => {
    const planted = generateToken();
    expect(readSessionCookie(`session=${planted}; __Host-session=${token}`, prod)).toEqual({ kind: "token", token });
    expect(readSessionCookie(`__Host-session=${token}; session=${planted}; session=x`, prod)).toEqual({ kind: "token", token });
    expect(readSessionCookie(`session=${planted}`, prod)).toEqual({ kind: "none" });
  });

  it("read the cookie with or without spaces and tabs around it", () => {
    expect(readSessionCookie(`a=1;session=${token}`, dev)).toEqual({ kind: "token", token });
    expect(readSessionCookie(`a=1;\tsession=${token} `, dev)).toEqual({ kind: "token", token });
    expect(readSessionCookie(`session=${token};`, dev)).toEqual({ kind: "token", token });
    expect(readSessionCookie(`sessionx=${token}`, dev)).toEqual({ kind: "none" });
  });
  // What logout and login's session-fixation step end: every session the browser presented, ambiguous or not.
  it("list every well-formed session token presented (once each, at most 16), ours only", () => {
    const other = generateToken();
    expect(presentedSessionTokens(`session=${token}; a=1; session=${other}; session=abc`, dev)).toEqual([token, other]);
    expect(presentedSessionTokens(`session=${token}; session=${token}`, dev)).toEqual([token]);
    expect(presentedSessionTokens(`session=${other}; __Host-session=${token}`, prod)).toEqual([token]);
    expect(presentedSessionTokens(null, dev)).toEqual([]);
    const many = Array.from({ length: 40 }, () => `session=${generateToken()}`).join("; ");
    expect(presentedSessionTokens(many, dev)).toHaveLength(16);
  });
});
