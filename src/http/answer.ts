// An answer decided once and written by either side of the server: as a
// Fetch Response for Hono, or straight onto Node's ServerResponse for the
// lanes that skip the framework (http/node-listener.ts). Both send the same
// status, headers and JSON body; test/fast-me.test.ts compares the bytes.
import type { ServerResponse } from "node:http";

export interface Answer {
  status: number;
  /** The answer's own headers (Set-Cookie, Retry-After...); the fixed ones are added by the writer. */
  headers: readonly (readonly [string, string])[];
  body: string;
  /** Content-Length of `body`, computed once with it. */
  length: string;
}

/** A JSON answer. */
export function answer(status: number, value: unknown, headers: Answer["headers"] = []): Answer {
  const body = JSON.stringify(value);
  return { status, headers, body, length: String(Buffer.byteLength(body)) };
}

/** Hono's writer: securityHeaders and requestContext add the rest on the way out. */
export function toResponse(a: Answer): Response {
  const headers = new Headers([["content-type", "application/json"], ["cache-control", "no-store"]]);
  for (const [name, value] of a.headers) headers.append(name, value);
  return new Response(a.body, { status: a.status, headers });
}

/**
 * Node's writer. `fixed` is fixedHeaders() flattened (it includes
 * Cache-Control). writeHead sends the head at once: without a length the
 * body would be chunked.
 */
export function writeAnswer(res: ServerResponse, a: Answer, fixed: readonly string[], requestId: string): void {
  const head = ["content-type", "application/json"];
  for (const [name, value] of a.headers) head.push(name, value);
  head.push(...fixed, "x-request-id", requestId, "content-length", a.length);
  res.writeHead(a.status, head);
  res.end(a.body);
}
