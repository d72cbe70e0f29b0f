// The session cookie: an opaque token and nothing else. Development uses the
// seed's exact strings; production (or an https public origin) uses the
// __Host- prefix with Secure, and clears with the very same name and
// attributes, or browsers would ignore the clearing.
import { isWellFormedToken } from "./tokens.js";

export interface CookieOptions {
  secure: boolean;
  /** Max-Age of a new session cookie, in seconds (createLatchkey: the absolute session lifetime). */
  maxAgeSeconds?: number;
}

/**
 * A second HttpOnly cookie carrying one token, with the session cookie's
 * attributes (and its __Host- prefix in production): set, cleared with the
 * same name and attributes, and read only when exactly one well-formed
 * token of its name is present.
 */
function tokenCookie(base: string) {
  const name = ({ secure }: CookieOptions) => (secure ? `__Host-${base}` : base);
  return {
    set: (token: string, options: CookieOptions, maxAgeSeconds: number) => `${name(options)}=${token}; ${attributes(options)}; Max-Age=${maxAgeSeconds}`,
    clear: (options: CookieOptions) => `${name(options)}=; ${attributes(options)}; Max-Age=0`,
    read(request: Request, options: CookieOptions): string | undefined {
      const header = request.headers.get("cookie");
      if (!header || header.length > MAX_COOKIE_HEADER) return undefined;
      const prefix = name(options) + "=";
      const values = header.split(";").map((p) => p.trim()).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
      return values.length === 1 && isWellFormedToken(values[0]!) ? values[0] : undefined;
    },
  };
}

/**
 * The two-step login's challenge: set when the password was right and a
 * second factor is next, read only by POST /login/mfa.
 */
export const challengeCookies = tokenCookie("mfa_challenge");

/**
 * An admin signed in as a user keeps their own session token here, so that
 * POST /impersonation/stop can give them their own session back.
 */
export const impersonatorCookies = tokenCookie("impersonator");

/** Longer Cookie headers are treated as carrying no session. */
const MAX_COOKIE_HEADER = 8192;

export function sessionCookieName({ secure }: CookieOptions): string {
  return secure ? "__Host-session" : "session";
}

function attributes({ secure }: CookieOptions): string {
  return secure ? "HttpOnly; Secure; SameSite=Lax; Path=/" : "HttpOnly; SameSite=Lax; Path=/";
}

export function sessionCookie(token: string, options: Required<CookieOptions>): string {
  return `${sessionCookieName(options)}=${token}; ${attributes(options)}; Max-Age=${options.maxAgeSeconds}`;
}

export function clearSessionCookie(options: CookieOptions): string {
  return `${sessionCookieName(options)}=; ${attributes(options)}; Max-Age=0`;
}

/** What the Cookie header says about the session. */
export type CookieToken =
  | { kind: "none" } // no session cookie at all
  | { kind: "token"; token: string } // a well-formed token, not yet checked
  | { kind: "malformed" } // one session cookie that cannot be a token
  | { kind: "ambiguous" }; // several session cookies, or an oversized header: no session, and nothing to clear

const NONE: CookieToken = Object.freeze({ kind: "none" });
const MALFORMED: CookieToken = Object.freeze({ kind: "malformed" });
const AMBIGUOUS: CookieToken = Object.freeze({ kind: "ambiguous" });

/**
 * Reads the session cookie of a Fetch Request (or a raw Cookie header), in
 * one pass over the header. Several cookies of our name (a sibling subdomain
 * can plant a plain `session` cookie next to ours) or a header over 8 KB
 * (a cookie bomb) are "ambiguous": treated as no session, and never answered
 * with a clearing Set-Cookie, which would let such a cookie log the user out.
 * In production our name is `__Host-session`, which no other host can set, so
 * a planted plain `session` cookie is simply not ours and does not count.
 */
export function readSessionCookie(source: Request | string | null | undefined, options: CookieOptions): CookieToken {
  const header = typeof source === "object" && source !== null ? source.headers.get("cookie") : source;
  if (!header) return NONE;
  if (header.length > MAX_COOKIE_HEADER) return AMBIGUOUS;
  const name = sessionCookieName(options);
  let value: string | undefined;
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    let at = start;
    while (header.charCodeAt(at) === 32 || header.charCodeAt(at) === 9) at++;
    if (header.startsWith(name, at) && header.charCodeAt(at + name.length) === 61 /* = */) {
      if (value !== undefined) return AMBIGUOUS;
      value = header.slice(at + name.length + 1, end).trim();
    }
    start = end + 1;
  }
  if (value === undefined) return NONE;
  return isWellFormedToken(value) ? { kind: "token", token: value } : MALFORMED;
}

/** The well-formed session token carried by the request, if any. */
export function getSessionToken(source: Request | string | null | undefined, options: CookieOptions): string | undefined {
  const read = readSessionCookie(source, options);
  return read.kind === "token" ? read.token : undefined;
}

/** At most this many presented tokens are ended per request (a header could hold hundreds). */
const MAX_PRESENTED_TOKENS = 16;

/**
 * Every well-formed session token the header presents, for logout and login's
 * session-fixation step (not the hot path). When the header is ambiguous the
 * real session is one of them, and ending a session whose token the client
 * itself sent takes nothing from anyone else.
 */
export function presentedSessionTokens(source: Request | string | null | undefined, options: CookieOptions): string[] {
  const header = typeof source === "object" && source !== null ? source.headers.get("cookie") : source;
  if (!header) return [];
  const prefix = sessionCookieName(options) + "=";
  const tokens: string[] = [];
  for (const part of header.split(";")) {
    const pair = part.trim();
    if (!pair.startsWith(prefix)) continue;
    const value = pair.slice(prefix.length);
    if (isWellFormedToken(value) && !tokens.includes(value)) tokens.push(value);
    if (tokens.length === MAX_PRESENTED_TOKENS) break;
  }
  return tokens;
}
