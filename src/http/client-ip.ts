import type { Context } from "hono";

/** The socket's peer address when running on @hono/node-server; null elsewhere. */
export function socketAddress(c: Context): string | null {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
}
