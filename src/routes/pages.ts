// The built-in pages: sign up / log in at /, the account page at /account,
// and their two static files. Signed-in state is decided on the server for
// every request (pages are never cached), so the back button after a logout
// gets the log-in page, not a stale account page.
import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import type { User } from "../schemas.js";
import { ASSET_CACHE_CONTROL, ASSETS } from "../pages/assets.js";
import { homePath, underBasePath } from "../base-path.js";
import { htmlResponse } from "../pages/html.js";
import { accountPage, homePage } from "../pages/views.js";

/** Paths served as HTML or static files, not API routes (left out of the OpenAPI document). */
export const PAGE_PATHS = ["/", "/account", "/assets/:name", "/docs"];

export interface RouteTable {
  routes: readonly { method: string; path: string }[];
}

/** True when the app serves method+path (checked per request, so route groups registered later count). */
export function serves(app: RouteTable, method: string, path: string): boolean {
  return app.routes.some((r) => r.method === method && r.path === path);
}

/** The signed-in user, or null plus the clearing Set-Cookie for a dead session cookie. */
export async function pageUser(deps: Deps, request: Request): Promise<{ user: User | null; setCookie: string | null }> {
  const auth = await deps.authenticate(request);
  if (auth instanceof Response) return { user: null, setCookie: auth.headers.get("set-cookie") };
  return { user: auth.user, setCookie: null };
}

function redirect(location: string, setCookie: string | null): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  if (setCookie) headers.set("set-cookie", setCookie);
  return new Response(null, { status: 303, headers });
}

export function pageRoutes(deps: Deps, app: RouteTable) {
  const pages = new Hono<AppEnv>();
  if (!deps.config.pagesEnabled) return pages;
  const base = deps.config.basePath;

  pages.get("/", async (c) => {
    const { user, setCookie } = await pageUser(deps, c.req.raw);
    if (user) return redirect(`${base}/account`, null);
    const res = htmlResponse(underBasePath(homePage(), base));
    if (setCookie) res.headers.set("set-cookie", setCookie);
    return res;
  });

  pages.get("/account", async (c) => {
    const { user, setCookie } = await pageUser(deps, c.req.raw);
    if (!user) return redirect(homePath(base), setCookie);
    return htmlResponse(underBasePath(
      accountPage(user, {
        sessions: serves(app, "GET", "/sessions") && serves(app, "DELETE", "/sessions/:id"),
        revokeOthers: serves(app, "POST", "/sessions/revoke-others"),
        logoutAll: serves(app, "POST", "/logout-all"),
        password: serves(app, "POST", "/password"),
      }),
      base,
    ));
  });

  pages.get("/assets/:name", (c) => {
    const asset = Object.hasOwn(ASSETS, c.req.param("name")) ? ASSETS[c.req.param("name")] : undefined;
    if (!asset) return c.notFound();
    return new Response(asset.body, {
      headers: { "content-type": asset.type, "cache-control": ASSET_CACHE_CONTROL, "x-content-type-options": "nosniff" },
    });
  });

  return pages;
}
