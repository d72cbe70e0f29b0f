// The session cookie: an opaque token and nothing else. Development uses the
// seed's exact strings; production (or an https public origin) uses the
// __Host- prefix with Secure, and clears with the very same name and
// attributes, or browsers would ignore the clearing.
import { isWellFormedToken } from "./tokens.js";

export interface CookieOptions {
  secure: boolean;
}

/** Longer Cookie headers are treated as carrying no session. */
const MAX_COOKIE_HEADER = 8192;

export function sessionCookieName({ secure }: CookieOptions): string {
  return secure ? "__Host-session" : "session";
}

function attributes({ secure }: CookieOptions): string {
  return secure ? "HttpOnly; Secure; SameSite=Lax; Path=/" : "HttpOnly; SameSite=Lax; Path=/";
}

export function sessionCookie(token: string, maxAgeSeconds: number, options: CookieOptions): string {
  return `${sessionCookieName(options)}=${token}; ${attributes(options)}; Max-Age=${maxAgeSeconds}`;
}

export function clearSessionCookie(options: CookieOptions): string {
  return `${sessionCookieName(options)}=; ${attributes(options)}; Max-Age=0`;
}

/** What the Cookie header says about the session. */
export type CookieToken =
  | { kind: "none" } // no session cookie at all
  | { kind: "token"; token: string } // a well-formed token, not yet checked
  | { kind: "malformed" }; // a session cookie that cannot be a token

/** Reads the session cookie of a Fetch Request (or a raw Cookie header). */
export function readSessionCookie(source: Request | string | null | undefined, options: CookieOptions): CookieToken {
  const header = typeof source === "object" && source !== null ? source.headers.get("cookie") : source;
  if (!header) return { kind: "none" };
  if (header.length > MAX_COOKIE_HEADER) return { kind: "malformed" };
  const prefix = sessionCookieName(options) + "=";
  let found = false;
  for (const part of header.split(";")) {
    const pair = part.trim();
    if (!pair.startsWith(prefix)) continue;
    const value = pair.slice(prefix.length);
    if (isWellFormedToken(value)) return { kind: "token", token: value };
    found = true;
  }
  return found ? { kind: "malformed" } : { kind: "none" };
}

/** The well-formed session token carried by the request, if any. */
export function getSessionToken(source: Request | string | null | undefined, options: CookieOptions): string | undefined {
  const read = readSessionCookie(source, options);
  return read.kind === "token" ? read.token : undefined;
}
