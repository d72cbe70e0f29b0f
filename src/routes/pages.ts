// The built-in pages: sign up / log in at /, the account page at /account,
// the forgot-password and verification-link pages, and their two static
// files. Signed-in state is decided on the server for every request (pages
// are never cached), so the back button after a logout gets the log-in page,
// not a stale account page.
import type { AppEnv, Deps } from "../deps.js";
import { routeGroup } from "../http/route.js";
import type { User } from "../schemas.js";
import { ASSET_CACHE_CONTROL, ASSETS } from "../pages/assets.js";
import { homePath, underBasePath } from "../base-path.js";
import { htmlResponse, type Html } from "../pages/html.js";
import { describeActivity } from "../pages/activity.js";
import { accountPage, forgotPasswordPage, homePage, withImpersonationBanner, type MfaState } from "../pages/views.js";
import { adminForbiddenPage, adminUserPage, adminUsersPage } from "../pages/admin-views.js";
import { authenticateAdmin, type Authenticated } from "../auth/authenticate.js";
import { adminConsoleQuery } from "../schemas.js";
import { acceptInvitePage, confirmEmailPage, notMePage, verifyEmailPage } from "../pages/link-pages.js";

/**
 * The signed-in user, or null plus the clearing Set-Cookie for a dead session
 * cookie; `page` puts the impersonation banner on a page for that user when
 * an administrator is signed in as them.
 */
export async function pageUser(deps: Deps, request: Request): Promise<{ user: User | null; setCookie: string | null; page: (html: Html) => Html }> {
  const auth = await deps.authenticate(request);
  if (auth instanceof Response) return { user: null, setCookie: auth.headers.get("set-cookie"), page: (html) => html };
  const impersonated = auth.session.impersonatorId !== null;
  return { user: auth.user, setCookie: null, page: (html) => (impersonated ? withImpersonationBanner(html, auth.user) : html) };
}

function redirect(location: string, setCookie: string | null): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  if (setCookie) headers.set("set-cookie", setCookie);
  return new Response(null, { status: 303, headers });
}

/** Events the account page reads (a run of failures shows as one line). */
const RECENT_EVENTS = 30;
/** Users a console page lists. */
const CONSOLE_PAGE = 50;

export function pageRoutes(deps: Deps) {
  const r = routeGroup<AppEnv>();
  if (!deps.config.pagesEnabled) return r.routes;
  const base = deps.config.basePath;

  r.page({ path: "/", auth: "cookie" }, async (c) => {
    const { user, setCookie } = await pageUser(deps, c.req.raw);
    if (user) return redirect(`${base}/account`, null);
    const res = htmlResponse(underBasePath(homePage({ signup: deps.config.signup === "open" }), base));
    if (setCookie) res.headers.set("set-cookie", setCookie);
    return res;
  });

  r.page({ path: "/account", auth: "cookie" }, async (c) => {
    const { user, setCookie, page: withBanner } = await pageUser(deps, c.req.raw);
    if (!user) return redirect(homePath(base), setCookie);
    const { events } = await deps.store.events.list({ userId: user.id, limit: RECENT_EVENTS });
    const on = (await deps.mfa.methods(user.id)).length > 0;
    const mfa = { on, recoveryCodesLeft: on ? await deps.mfa.recoveryCodesLeft(user.id) : 0 };
    const page = accountPage(user, describeActivity(events), deps.config.emailVerification.mode, mfa);
    return htmlResponse(underBasePath(withBanner(page), base));
  });

  // Signed in or not, the same page: asking for a link needs no session.
  r.page({ path: "/forgot-password", auth: "none" }, () => htmlResponse(underBasePath(forgotPasswordPage(), base)));

  // The emailed verification link: a page whose button POSTs the token to
  // POST /verify-email. Like every one-time link, its GET changes nothing
  // (see pages/link-pages.ts); /reset-password's page is answered by its own
  // GET route (routes/password-reset.ts), which also keeps a JSON answer.
  r.page({ path: "/verify-email", auth: "none" }, (c) => htmlResponse(underBasePath(verifyEmailPage(c.req.query("token")), base)));
  r.page({ path: "/confirm-email", auth: "none" }, (c) => htmlResponse(underBasePath(confirmEmailPage(c.req.query("token")), base)));
  r.page({ path: "/not-me", auth: "none" }, (c) => htmlResponse(underBasePath(notMePage(c.req.query("token")), base)));
  r.page({ path: "/accept-invite", auth: "none" }, (c) => htmlResponse(underBasePath(acceptInvitePage(c.req.query("token")), base)));

  /** The signed-in admin for a console page, or the page's answer: home for no session, an HTML 403 otherwise. */
  async function consoleAdmin(request: Request): Promise<{ admin: Authenticated; mfa: MfaState } | Response> {
    const auth = await authenticateAdmin(deps, request);
    if (auth instanceof Response) {
      const { user, setCookie, page } = await pageUser(deps, request);
      if (!user) return redirect(homePath(base), setCookie);
      const { error } = (await auth.json()) as { error: string };
      return htmlResponse(underBasePath(page(adminForbiddenPage(user, error === "Forbidden" ? "This page is for administrators." : error)), base), 403);
    }
    const on = (await deps.mfa.methods(auth.user.id)).length > 0;
    return { admin: auth, mfa: { on, recoveryCodesLeft: 0 } };
  }

  r.page({ path: "/admin", auth: "cookie" }, async (c) => {
    const signedIn = await consoleAdmin(c.req.raw);
    if (signedIn instanceof Response) return signedIn;
    const query = adminConsoleQuery.safeParse(c.req.query());
    const { email, cursor } = query.success ? query.data : { email: undefined, cursor: undefined };
    const page = await deps.store.listUsers({ limit: CONSOLE_PAGE, cursor, emailPrefix: email });
    return htmlResponse(underBasePath(adminUsersPage(signedIn.admin.user, { ...page, email }, deps.clock(), signedIn.mfa), base));
  });

  r.page({ path: "/admin/users/:id", auth: "cookie" }, async (c) => {
    const signedIn = await consoleAdmin(c.req.raw);
    if (signedIn instanceof Response) return signedIn;
    const user = await deps.store.findUserById(c.req.param("id"));
    if (!user) return htmlResponse(underBasePath(adminForbiddenPage(signedIn.admin.user, "No such user."), base), 404);
    const [sessions, methods, { events }] = await Promise.all([
      deps.sessions.listLive(user.id),
      deps.mfa.methods(user.id),
      deps.store.events.list({ userId: user.id, limit: RECENT_EVENTS }),
    ]);
    const details = { user, sessions, mfaOn: methods.length > 0, activity: describeActivity(events) };
    return htmlResponse(underBasePath(adminUserPage(signedIn.admin.user, details, deps.clock(), signedIn.mfa), base));
  });

  r.page({ path: "/assets/:name", auth: "none" }, (c) => {
    const asset = Object.hasOwn(ASSETS, c.req.param("name")) ? ASSETS[c.req.param("name")] : undefined;
    if (!asset) return c.notFound();
    return new Response(asset.body, {
      headers: { "content-type": asset.type, "cache-control": ASSET_CACHE_CONTROL, "x-content-type-options": "nosniff" },
    });
  });

  return r.routes;
}
