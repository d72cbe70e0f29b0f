// JSON responses in the documented shapes. Plain Fetch Responses, so the
// framework-free parts of the library can return them too.

export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const res = Response.json(body, { status, headers });
  res.headers.set("cache-control", "no-store");
  return res;
}

/** `{ error: "<human sentence>", ...extra }` */
export function jsonError(status: number, error: string, extra?: Record<string, unknown>, headers?: HeadersInit): Response {
  return json({ error, ...extra }, status, headers);
}

