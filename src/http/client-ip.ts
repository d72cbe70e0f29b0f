// Who is the client? The peer address (the socket's on Node, or what the
// embedding runtime reports through createLatchkey's clientIp hook), unless
// the operator says a proxy in front of us may name the client (TRUST_PROXY).
// Without that, an X-Forwarded-For header is just text anyone can send, and
// honouring it would let an attacker pick a fresh "IP" for every request and
// walk past every limit. With it, exactly one header is read
// (TRUST_PROXY_HEADER): were both read, a client could send the one the proxy
// does not set, and it would pass through untouched and name any client it likes.
import { isIP } from "node:net";
import type { Context } from "hono";
import type { ProxyHeader, TrustProxy } from "../config.js";

/** The runtime's own word on the peer address (Deno, Bun, Workers): see LatchkeyOptions.clientIp. */
export type PeerAddressHook = (request: Request, env: unknown) => string | null | undefined;

/** The client address of a request, or null when nobody can tell. */
export type ClientIpResolver = (c: Context) => string | null;

/** The socket's peer address when running on @hono/node-server; null elsewhere. */
export function socketAddress(c: Context): string | null {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const address = incoming?.socket?.remoteAddress;
  return address ? normalizeAddress(address) : null;
}

/** "::ffff:127.0.0.1" -> "127.0.0.1", so one client has one spelling. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/** The client's address: the socket's, or the one a trusted proxy reports in `header`. */
export function clientIp(c: Context, trustProxy: TrustProxy | null, header: ProxyHeader = "x-forwarded-for"): string | null {
  const socket = socketAddress(c);
  if (!trustProxy || !socket) return socket;
  return resolveClientIp(socket, forwardedChain(c.req.raw.headers, header), trustProxy);
}

/**
 * Builds the one resolver every route asks (deps.clientIp). The peer is the
 * hook's answer when there is a hook (it replaces the socket), else the
 * socket's; a trusted proxy's chain is then walked from that peer. An unknown
 * peer stays unknown: with no address to check, no forwarded header can be trusted.
 */
export function createClientIpResolver(options: {
  trustProxy: TrustProxy | null;
  header: ProxyHeader;
  peer?: PeerAddressHook | undefined;
  /** Called once, the first time an address is unknown (per-IP limits are then off for such requests). */
  onFirstUnknown?: () => void;
}): ClientIpResolver {
  const { trustProxy, header, peer } = options;
  const resolve: ClientIpResolver = peer
    ? (c) => {
        const raw = peer(c.req.raw, c.env);
        const address = typeof raw === "string" ? parseNode(raw) : null;
        if (!trustProxy || !address) return address;
        return resolveClientIp(address, forwardedChain(c.req.raw.headers, header), trustProxy);
      }
    : (c) => clientIp(c, trustProxy, header);
  let warned = !options.onFirstUnknown;
  return (c) => {
    const address = resolve(c);
    if (address === null && !warned) {
      warned = true;
      options.onFirstUnknown!();
    }
    return address;
  };
}

/**
 * Walks the forwarded chain from the nearest hop outwards, stopping at the
 * first address that is not a trusted proxy. Exported for unit tests.
 * `chain` lists addresses as proxies appended them: client first, nearest last.
 */
export function resolveClientIp(socket: string, chain: (string | null)[], trust: TrustProxy): string {
  const hops = [...chain, socket];
  let index = hops.length - 1;
  const trusted = (address: string, seen: number) =>
    "hops" in trust ? seen < trust.hops : trust.addresses.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
  let seen = 0;
  while (index > 0 && trusted(hops[index]!, seen)) {
    const next = hops[index - 1];
    // An entry we cannot read ("unknown", obfuscated, garbage) ends the walk:
    // the last address we could trust is the best we know.
    if (!next) break;
    index--;
    seen++;
  }
  return hops[index]!;
}

/**
 * The addresses in the one configured header: `Forwarded` (RFC 7239, its
 * `for=` parameters) or `X-Forwarded-For`; null for unreadable entries. The
 * other header is never looked at.
 */
export function forwardedChain(headers: Headers, header: ProxyHeader): (string | null)[] {
  const value = headers.get(header);
  if (!value) return [];
  if (header === "x-forwarded-for") return value.split(",").map((s) => parseNode(s));
  return value.split(",").map((element) => {
    const pair = element
      .split(";")
      .map((p) => p.trim())
      .find((p) => p.toLowerCase().startsWith("for="));
    return pair ? parseNode(pair.slice(4)) : null;
  });
}

/** `"[2001:db8::1]:4711"`, `192.0.2.1:80`, `192.0.2.1` -> the bare address, or null. */
export function parseNode(raw: string): string | null {
  let value = raw.trim().replace(/^"(.*)"$/, "$1");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
  return isIP(value) ? normalizeAddress(value) : null;
}
