// Reading a JSON body: content type, syntax and shape, each refused with its
// own clear 4xx. The size limit is enforced before this, by bodySizeLimit (http/middleware.ts).
import type { z } from "zod";
import { refuse } from "../refusals.js";

// Strict: invalid bytes are refused rather than turned into U+FFFD, which would
// let different byte sequences collapse into one email address.
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export interface Issue {
  path: string;
  message: string;
}

export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

/** The validated query (c.req.query()), or the 400 `Invalid query` with its issues. */
export function parseQuery<S extends z.ZodType>(query: Record<string, string>, schema: S): z.infer<S> | Response {
  const parsed = schema.safeParse(query);
  return parsed.success ? parsed.data : refuse("invalidQuery", { issues: toIssues(parsed.error) });
}

export function invalidBody(issues: Issue[]): Response {
  return refuse("invalidBody", { issues });
}

/** The validated body, or the Response that ends the request. */
export async function parseJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.output<S> | Response> {
  if (!JSON_TYPE.test(request.headers.get("content-type") ?? "")) {
    return refuse("notJson");
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await request.arrayBuffer();
  } catch (err) {
    if (isBrokenRequestBody(err)) return brokenBody();
    throw err;
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return refuse("invalidUtf8");
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return refuse("malformedJson");
  }
  const parsed = schema.safeParse(data);
  return parsed.success ? parsed.data : invalidBody(toIssues(parsed.error));
}

/**
 * A body the client broke off or mangled (a bad chunk, a cut connection):
 * Node aborts the request stream with ECONNRESET "aborted". That is a client
 * error (400, logged at info), never a server failure.
 */
export function isBrokenRequestBody(err: unknown): boolean {
  return err instanceof Error && err.message === "aborted" && (err as NodeJS.ErrnoException).code === "ECONNRESET";
}

export function brokenBody(): Response {
  return refuse("unreadableBody");
}

/**
 * 400 when a request to a route that takes no body carries one, as other
 * routes refuse fields they do not take (a client sending options it thinks
 * matter should learn they do not). An empty body (the no-JS form's) is fine.
 */
export async function refuseBody(request: Request): Promise<Response | null> {
  if (request.body === null) return null;
  const bytes = await request.arrayBuffer();
  return bytes.byteLength === 0 ? null : refuse("unexpectedBody");
}
