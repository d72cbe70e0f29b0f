// The OpenAPI 3.1 document, generated from the zod schemas the routes
// validate with. Adding a route to the reference = adding one entry to
// ROUTE_DOCS below; test/openapi.test.ts fails while any route registered in
// the app has no entry here. Entries whose route is not registered (a
// capability switched off or not merged yet) are left out of the document.
import { z } from "zod";
import {
  changePasswordBody,
  currentPasswordSchema,
  deleteAccountBody,
  emailSchema,
  errorSchema,
  forgotPasswordBody,
  loginBody,
  newPasswordSchema,
  refreshBody,
  resetPasswordBody,
  sessionSchema,
  setRoleBody,
  signupBody,
  tokenPairSchema,
  userSchema,
} from "./schemas.js";

type Method = "get" | "post" | "put" | "patch" | "delete";

export interface ResponseDoc {
  description: string;
  /** JSON body; omitted for bodiless responses. */
  schema?: z.ZodType;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  method: Method;
  /** Hono syntax: /sessions/:id */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: "none" | "session" | "bearer";
  body?: z.ZodType;
  /** Query parameters (declared, not only described in prose). */
  query?: QueryParam[];
  responses: Record<number, ResponseDoc>;
}

export interface QueryParam {
  name: string;
  description: string;
  schema: Record<string, unknown>;
  required?: boolean;
}

const userBody = z.object({ user: userSchema });
const messageBody = z.object({ message: z.string() });
const statusBody = z.object({ status: z.string() });
const revokedBody = z.object({ revoked: z.number().int().describe("How many sessions ended") });

// Errors every route can answer, and the ones shared by groups of routes.
const err = (description: string, headers?: Record<string, string>): ResponseDoc => ({ description, schema: errorSchema, headers });
const COMMON = {
  500: err("Unexpected failure: `{error:\"Internal server error\", requestId}`, details only in the log"),
  503: err("Store unavailable or password hasher saturated", { "Retry-After": "Seconds to wait" }),
};
const JSON_BODY_ERRORS = {
  400: err("Malformed JSON, or a body that fails validation (`issues: [{path, message}]`)"),
  403: err("Cross-site request refused (Fetch Metadata / Origin check)"),
  413: err("Body larger than BODY_LIMIT_BYTES"),
  415: err("Content-Type is not application/json"),
};
// The bearer routes are exempt from the cross-site check (app.ts): no 403.
const { 403: _crossSite, ...TOKEN_BODY_ERRORS } = JSON_BODY_ERRORS;
const UNAUTHORIZED = { 401: err("No valid session (a dead session cookie is cleared)") };
const CROSS_SITE = { 403: err("Cross-site request refused (Fetch Metadata / Origin check)") };
const FORBIDDEN = { 403: err("Forbidden: signed in without the admin role") };
const RATE_LIMITED = { 429: err("Too many attempts", { "Retry-After": "Seconds to wait" }) };
const SET_COOKIE = { "Set-Cookie": "session=<token>; HttpOnly; SameSite=Lax; Path=/; Max-Age=<s> (__Host-session and Secure in production)" };
const CLEAR_COOKIE = { "Set-Cookie": "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0" };

export const ROUTE_DOCS: RouteDoc[] = [
  {
    method: "post", path: "/signup", tag: "Account", auth: "none",
    summary: "Create an account",
    description: "Creates the user; no session is started (log in next). Email: trimmed and lower-cased. Password: 8 to 1024 characters, taken exactly as typed.",
    body: signupBody,
    responses: { 201: { description: "Created", schema: userBody }, ...JSON_BODY_ERRORS, 409: err("Email already registered"), ...RATE_LIMITED, ...COMMON },
  },
  {
    method: "post", path: "/login", tag: "Session", auth: "none",
    summary: "Log in",
    description: "Starts a new session and ends the one the request arrived with. Unknown email and wrong password get the same answer.",
    body: loginBody,
    responses: {
      200: { description: "Signed in", schema: userBody, headers: SET_COOKIE },
      ...JSON_BODY_ERRORS,
      401: err("Invalid email or password (no Set-Cookie)"),
      ...RATE_LIMITED,
      ...COMMON,
    },
  },
  {
    method: "get", path: "/me", tag: "Session", auth: "session",
    summary: "The signed-in user",
    responses: { 200: { description: "The user", schema: userBody }, ...UNAUTHORIZED, ...COMMON },
  },
  {
    method: "post", path: "/logout", tag: "Session", auth: "none",
    summary: "Log out",
    description: "Ends the session named by the cookie, if any, and clears the cookie. Always 200, however often. Any other method is 405 with `Allow: POST`.",
    responses: { 200: { description: "Logged out", schema: messageBody, headers: CLEAR_COOKIE }, ...CROSS_SITE, ...COMMON },
  },
  {
    method: "get", path: "/sessions", tag: "Sessions", auth: "session",
    summary: "List my sessions",
    responses: { 200: { description: "Live sessions of the signed-in user", schema: z.object({ sessions: z.array(sessionSchema) }) }, ...UNAUTHORIZED, ...COMMON },
  },
  {
    method: "delete", path: "/sessions/:id", tag: "Sessions", auth: "session",
    summary: "Revoke one of my sessions",
    description: "Ending the current session also clears the cookie. Another user's session id answers 404, like an unknown one.",
    responses: { 200: { description: "Revoked", schema: messageBody }, ...UNAUTHORIZED, ...CROSS_SITE, 404: err("No such session of this user"), ...COMMON },
  },
  {
    method: "post", path: "/sessions/revoke-others", tag: "Sessions", auth: "session",
    summary: "Revoke every session but this one",
    description: "Takes no request body (a non-empty one is refused with 400).",
    responses: {
      200: { description: "Other sessions revoked", schema: revokedBody },
      400: err("A request body was sent: `This route takes no request body`"),
      ...UNAUTHORIZED,
      ...CROSS_SITE,
      ...COMMON,
    },
  },
  {
    method: "post", path: "/logout-all", tag: "Sessions", auth: "session",
    summary: "Log out everywhere",
    responses: { 200: { description: "All sessions ended, this one too", schema: messageBody.extend({ revoked: z.number().int() }), headers: CLEAR_COOKIE }, ...UNAUTHORIZED, ...CROSS_SITE, ...COMMON },
  },
  {
    method: "post", path: "/password", tag: "Account", auth: "session",
    summary: "Change my password",
    description: "Needs the current password. Every other session ends; this one is rotated (a new token in a new cookie; the old cookie is dead).",
    body: changePasswordBody,
    responses: {
      200: { description: "Changed", schema: userBody, headers: SET_COOKIE },
      ...JSON_BODY_ERRORS,
      401: err("Not signed in, or `Current password is incorrect`"),
      ...RATE_LIMITED,
      ...COMMON,
    },
  },
  {
    method: "delete", path: "/me", tag: "Account", auth: "session",
    summary: "Delete my account",
    description: "Needs the password. Deletes the account and every session of it, and clears the cookie.",
    body: deleteAccountBody,
    responses: {
      200: { description: "Deleted", schema: messageBody, headers: CLEAR_COOKIE },
      ...JSON_BODY_ERRORS,
      401: err("Not signed in, or `Password is incorrect`"),
      409: err("Cannot remove the last admin"),
      ...RATE_LIMITED,
      ...COMMON,
    },
  },
  {
    method: "get", path: "/users", tag: "Admin", auth: "session",
    summary: "List users (admin)",
    description: "Ordered by id. Query: `limit` 1 to 100 (default 20), `cursor` (the previous page's `nextCursor`), `email` (case-insensitive prefix).",
    query: [
      { name: "limit", description: "Page size, 1 to 100 (default 20)", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
      { name: "cursor", description: "The previous page's `nextCursor`", schema: { type: "string" } },
      { name: "email", description: "Case-insensitive email prefix", schema: { type: "string" } },
    ],
    responses: {
      200: { description: "A page of users", schema: z.object({ users: z.array(userSchema), nextCursor: z.string().nullable() }) },
      400: err("Invalid query (`issues: [{path, message}]`)"),
      ...UNAUTHORIZED,
      ...FORBIDDEN,
      ...COMMON,
    },
  },
  {
    method: "get", path: "/users/:id", tag: "Admin", auth: "session",
    summary: "One user (admin)",
    responses: { 200: { description: "The user", schema: userBody }, ...UNAUTHORIZED, ...FORBIDDEN, 404: err("User not found"), ...COMMON },
  },
  {
    method: "patch", path: "/users/:id", tag: "Admin", auth: "session",
    summary: "Change a user's role (admin)",
    description: "When the role changes, every session of that user ends. The last admin cannot be demoted.",
    body: setRoleBody,
    responses: {
      200: { description: "The user", schema: userBody },
      ...JSON_BODY_ERRORS,
      ...UNAUTHORIZED,
      403: err("Forbidden (not an admin), or a cross-site request"),
      404: err("User not found"),
      409: err("Cannot remove the last admin"),
      ...COMMON,
    },
  },
  {
    method: "delete", path: "/users/:id", tag: "Admin", auth: "session",
    summary: "Delete a user (admin)",
    description: "Every session of the user goes with it. The last admin cannot be deleted.",
    responses: {
      200: { description: "Deleted", schema: messageBody },
      ...UNAUTHORIZED,
      403: err("Forbidden (not an admin), or a cross-site request"),
      404: err("User not found"),
      409: err("Cannot remove the last admin"),
      ...COMMON,
    },
  },
  {
    method: "delete", path: "/users/:id/sessions", tag: "Admin", auth: "session",
    summary: "End every session of a user (admin)",
    responses: {
      200: { description: "Sessions ended", schema: revokedBody },
      ...UNAUTHORIZED,
      403: err("Forbidden (not an admin), or a cross-site request"),
      404: err("User not found"),
      ...COMMON,
    },
  },
  {
    method: "delete", path: "/users/sessions", tag: "Admin", auth: "session",
    summary: "End every session of every user (admin)",
    description: "Every cookie session and every bearer credential (refresh families, access tokens, reset links) of every user ends, the calling admin's own session too (its cookie is cleared). `revoked` counts cookie sessions.",
    responses: {
      200: { description: "Sessions ended", schema: revokedBody, headers: CLEAR_COOKIE },
      ...UNAUTHORIZED,
      403: err("Forbidden (not an admin), or a cross-site request"),
      ...COMMON,
    },
  },
  {
    method: "post", path: "/token/login", tag: "Tokens", auth: "none",
    summary: "Log in for a non-browser client",
    description: "Same credentials, limits and answers as POST /login, but returns a bearer access token and a refresh token instead of a cookie. Exempt from the cross-site check: it never reads cookies.",
    body: loginBody,
    responses: { 200: { description: "Token pair", schema: tokenPairSchema }, ...TOKEN_BODY_ERRORS, 401: err("Invalid email or password"), ...RATE_LIMITED, ...COMMON },
  },
  {
    method: "post", path: "/token/refresh", tag: "Tokens", auth: "none",
    summary: "Trade a refresh token for a new pair",
    description: "The refresh token is used up. Presenting one that was already used revokes its whole family (reuse detection).",
    body: refreshBody,
    responses: { 200: { description: "New token pair", schema: tokenPairSchema }, ...TOKEN_BODY_ERRORS, 401: err("Invalid, expired or reused refresh token"), ...COMMON },
  },
  {
    method: "get", path: "/token/me", tag: "Tokens", auth: "bearer",
    summary: "The user named by a bearer access token",
    responses: {
      200: { description: "The user", schema: userBody },
      401: err("Missing, malformed, expired, wrongly signed or revoked token", { "WWW-Authenticate": "Bearer" }),
      ...COMMON,
    },
  },
  {
    method: "post", path: "/token/logout", tag: "Tokens", auth: "none",
    summary: "Revoke a refresh token's family",
    body: refreshBody,
    responses: { 200: { description: "Logged out (always)", schema: messageBody }, ...TOKEN_BODY_ERRORS, ...COMMON },
  },
  {
    method: "post", path: "/forgot-password", tag: "Password reset", auth: "none",
    summary: "Email a password reset link",
    description:
      "Always the same 200 whether or not the account exists; limited per address (3 an hour), per client IP (10 an hour) and server-wide (1000 an hour), the same 429 for every limit.",
    body: forgotPasswordBody,
    responses: { 200: { description: "Link sent if the account exists", schema: messageBody }, ...JSON_BODY_ERRORS, ...RATE_LIMITED, ...COMMON },
  },
  {
    method: "get", path: "/reset-password", tag: "Password reset", auth: "none",
    summary: "Explains how to use a reset link (changes nothing)",
    query: [{ name: "token", description: "The reset token from the emailed link (POST it with the new password)", schema: { type: "string" } }],
    responses: { 200: { description: "What to POST", schema: messageBody.loose() } },
  },
  {
    method: "post", path: "/reset-password", tag: "Password reset", auth: "none",
    summary: "Set a new password with a reset token",
    description: "Consumes the token and ends every session and token family of the user. Limited per client IP (10 in 15 minutes).",
    body: resetPasswordBody,
    responses: { 200: { description: "Password reset", schema: messageBody }, ...JSON_BODY_ERRORS, ...RATE_LIMITED, ...COMMON },
  },
  {
    method: "get", path: "/healthz", tag: "Operations", auth: "none",
    summary: "Liveness: the process is up",
    responses: { 200: { description: "Up", schema: statusBody } },
  },
  {
    method: "get", path: "/readyz", tag: "Operations", auth: "none",
    summary: "Readiness: the database answers",
    responses: { 200: { description: "Ready", schema: statusBody }, 503: err("The database does not answer") },
  },
  {
    method: "get", path: "/openapi.json", tag: "Operations", auth: "none",
    summary: "This document (OpenAPI 3.1)",
    responses: { 200: { description: "The OpenAPI document" } },
  },
];

// Constraints zod expresses as refinements (which JSON Schema cannot see):
// stated here so the document tells clients the real limits. JSON Schema
// lengths count code points, exactly as the refinements do.
const REFINED: [z.ZodType, Record<string, unknown>][] = [
  [newPasswordSchema, { minLength: 8, maxLength: 1024, description: "8 to 1024 characters, taken exactly as typed" }],
  [currentPasswordSchema, { minLength: 1, maxLength: 1024 }],
  [emailSchema, { description: "One plain address (no display name, list, comment or quotes); trimmed, NFC-normalised and lower-cased; no control or invisible characters" }],
];

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const extra = REFINED.find(([s]) => (s as unknown) === zodSchema)?.[1];
      if (extra) Object.assign(jsonSchema, extra);
    },
  }) as Record<string, unknown>;
  delete out.$schema; // OpenAPI 3.1 schemas are 2020-12 by default
  return out;
}

/** /sessions/:id -> /sessions/{id} */
export function toOpenApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

export interface RegisteredRoute {
  method: string;
  path: string;
}

/** Documented routes that the app really serves (all of them when `registered` is omitted). */
export function documentedRoutes(registered?: readonly RegisteredRoute[]): RouteDoc[] {
  if (!registered) return ROUTE_DOCS;
  const served = new Set(registered.map((r) => `${r.method.toLowerCase()} ${r.path}`));
  return ROUTE_DOCS.filter((d) => served.has(`${d.method} ${d.path}`));
}

export function buildOpenApi(options: { registered?: readonly RegisteredRoute[]; version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of documentedRoutes(options.registered)) {
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(doc.responses)) {
      const headers = res.headers
        ? Object.fromEntries(Object.entries(res.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]))
        : undefined;
      responses[status] = {
        description: res.description,
        ...(headers && { headers }),
        ...(res.schema && { content: { "application/json": { schema: jsonSchema(res.schema, "output") } } }),
      };
    }
    const params: Record<string, unknown>[] = [
      ...[...doc.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } })),
      ...(doc.query ?? []).map((q) => ({ name: q.name, in: "query", required: q.required ?? false, description: q.description, schema: q.schema })),
    ];
    const path = toOpenApiPath(doc.path);
    paths[path] ??= {};
    paths[path][doc.method] = {
      operationId: `${doc.method}${path.replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      summary: doc.summary,
      ...(doc.description && { description: doc.description }),
      tags: [doc.tag],
      security: doc.auth === "none" ? [] : [{ [doc.auth === "session" ? "sessionCookie" : "bearerToken"]: [] }],
      ...(params.length > 0 && { parameters: params }),
      ...(doc.body && {
        requestBody: { required: true, content: { "application/json": { schema: jsonSchema(doc.body, "input") } } },
      }),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Latchkey",
      version: options.version,
      description:
        "Session-based authentication: an HttpOnly cookie names a server-side session. Every response carries `Cache-Control: no-store`; every error is `{error}` (+ `issues` for validation); non-safe cross-site browser requests get 403.",
    },
    // Relative "/" (the document's own origin) unless PUBLIC_URL names the public one.
    servers: [{ url: options.serverUrl || "/" }],
    paths,
    components: {
      securitySchemes: {
        sessionCookie: { type: "apiKey", in: "cookie", name: "session", description: "`__Host-session` in production" },
        bearerToken: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
