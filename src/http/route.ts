// A route is declared once: method, path, auth kind, cross-site policy and
// its documentation sit next to its handler. From the declarations app.ts
// registers the routes (exempt ones before the cross-site guard), and
// openapi.ts builds the document that /openapi.json and /docs serve.
import type { Context, Env, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { errorSchema, userSchema } from "../schemas.js";

export type Method = "get" | "post" | "put" | "patch" | "delete";

/** What a route reads to know who is calling: the session cookie, an Authorization: Bearer header, or nothing. */
export type AuthKind = "cookie" | "bearer" | "none";

/**
 * "checked" (the default): a non-safe cross-site request is refused with 403
 * before the handler runs. "exempt": the route reads no cookie, so a
 * cross-site request carries no ambient authority; a cookie route cannot be exempt.
 */
export type CrossSitePolicy =
  | { auth: "cookie"; crossSite?: "checked" }
  | { auth: "bearer" | "none"; crossSite?: "checked" | "exempt" };

export interface ResponseDoc {
  description: string;
  /** JSON body; omitted for bodiless responses. */
  schema?: z.ZodType;
  headers?: Record<string, string>;
}

export interface QueryParam {
  name: string;
  description: string;
  schema: Record<string, unknown>;
  required?: boolean;
}

/** An API route: all the OpenAPI document says about it. (The 403 of a checked non-safe route is added by openapi.ts.) */
export type RouteDoc<P extends string = string> = CrossSitePolicy & {
  method: Method;
  /** Hono syntax: /sessions/:id */
  path: P;
  summary: string;
  description?: string;
  tag: string;
  body?: z.ZodType;
  /** Query parameters (declared, not only described in prose). */
  query?: QueryParam[];
  responses: Record<number, ResponseDoc>;
};

/** A built-in HTML page or static file: declared like a route, left out of the OpenAPI document. */
export type PageDoc<P extends string = string> = { method: "get"; path: P; auth: AuthKind; crossSite?: "checked"; page: true };

export type Declaration = RouteDoc | PageDoc;
type Handler<E extends Env, P extends string> = (c: Context<E, P>) => Response | Promise<Response>;
export type Route<E extends Env> = { declaration: Declaration; handler: Handler<E, string> };

export const isApiRoute = (d: Declaration): d is RouteDoc => !("page" in d);
export const isExempt = (d: Declaration) => d.crossSite === "exempt";

/** A group of routes (one routes/<group>.ts): each call declares one route and its handler. */
export function routeGroup<E extends Env>() {
  const routes: Route<E>[] = [];
  const add = (declaration: Declaration, handler: Handler<E, string>) => {
    if (declaration.auth === "cookie" && isExempt(declaration)) throw new Error(`${declaration.path}: a cookie route cannot be exempt from the cross-site check`);
    routes.push({ declaration, handler });
  };
  const on =
    <M extends Method>(method: M) =>
    <P extends string>(doc: Omit<RouteDoc<P>, "method"> & CrossSitePolicy, handler: Handler<E, P>) =>
      add({ ...doc, method } as RouteDoc, handler as Handler<E, string>);
  return {
    routes,
    get: on("get"),
    post: on("post"),
    patch: on("patch"),
    delete: on("delete"),
    page: <P extends string>(doc: Omit<PageDoc<P>, "method" | "page">, handler: Handler<E, P>) =>
      add({ ...doc, method: "get", page: true }, handler as Handler<E, string>),
  };
}

/**
 * Registers the routes on `app` in declaration order, the exempt ones before
 * `guard`: Hono runs handlers in registration order, so exactly the exempt
 * routes (by method and route, wherever the app is mounted) answer before it.
 */
export function registerRoutes<E extends Env>(app: Hono<E>, routes: readonly Route<E>[], guard: MiddlewareHandler<E>): void {
  const register = ({ declaration: d, handler }: Route<E>) => app.on(d.method.toUpperCase(), d.path, handler);
  routes.filter((r) => isExempt(r.declaration)).forEach(register);
  app.use(guard);
  routes.filter((r) => !isExempt(r.declaration)).forEach(register);
}

// Response bodies and errors shared by several routes.
export const userBody = z.object({ user: userSchema });
export const messageBody = z.object({ message: z.string() });
export const statusBody = z.object({ status: z.string() });
export const revokedBody = z.object({ revoked: z.number().int().describe("How many sessions ended") });

export const err = (description: string, headers?: Record<string, string>): ResponseDoc => ({ description, schema: errorSchema, headers });
/** Errors every route can answer. */
export const COMMON = {
  500: err("Unexpected failure: `{error:\"Internal server error\", requestId}`, details only in the log"),
  503: err("Store unavailable or password hasher saturated", { "Retry-After": "Seconds to wait" }),
};
export const JSON_BODY_ERRORS = {
  400: err("Malformed JSON, or a body that fails validation (`issues: [{path, message}]`)"),
  413: err("Body larger than BODY_LIMIT_BYTES"),
  415: err("Content-Type is not application/json"),
};
/** Documented for every non-safe route the cross-site check applies to, unless the route documents its own 403. */
export const CROSS_SITE = { 403: err("Cross-site request refused (Fetch Metadata / Origin check)") };
export const UNAUTHORIZED = { 401: err("No valid session (a dead session cookie is cleared)") };
export const FORBIDDEN = { 403: err("Forbidden: signed in without the admin role") };
/** A login with the right password for an account whose address is unproven (EMAIL_VERIFICATION=required). */
export const UNVERIFIED = { 403: err("`Account disabled`, or `Email not verified` (EMAIL_VERIFICATION=required); only after a correct password") };
export const INVALID_QUERY = { 400: err("Invalid query (`issues: [{path, message}]`)") };
/** An admin route that changes state: no session, not an admin, or a cross-site request. */
export const ADMIN_WRITE = { ...UNAUTHORIZED, 403: err("Forbidden (not an admin), or a cross-site request") };
export const RATE_LIMITED = { 429: err("Too many attempts", { "Retry-After": "Seconds to wait" }) };
export const SET_COOKIE = { "Set-Cookie": "session=<token>; HttpOnly; SameSite=Lax; Path=/; Max-Age=<s> (__Host-session and Secure in production)" };
export const CLEAR_COOKIE = { "Set-Cookie": "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0" };
