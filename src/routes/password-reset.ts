// Password reset by email: ask for a link, then set a new password with it.
import { eventContext } from "../http/event-context.js";
import type { AppEnv, Deps } from "../deps.js";
import { checkForgotPasswordAllowed, checkResetPasswordAllowed } from "../auth/rate-limit.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { COMMON, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup } from "../http/route.js";
import { refuse } from "../refusals.js";
import { underBasePath } from "../base-path.js";
import { resetPasswordPage } from "../pages/link-pages.js";
import { htmlResponse } from "../pages/html.js";
import { forgotPasswordBody, resetPasswordBody } from "../schemas.js";

/** The same words whether or not the account exists. */
const LINK_SENT = {
  message: "If an account exists for this email, a password reset link has been sent to it.",
};

export function passwordResetRoutes(deps: Deps) {
  const { resets, accounts, logger } = deps;
  const r = routeGroup<AppEnv>();

  r.post(
    {
      path: "/forgot-password", tag: "Password reset", auth: "none",
      summary: "Email a password reset link",
      description:
        "Always the same 200 whether or not the account exists; limited per address (3 an hour), per client IP (10 an hour) and server-wide (1000 an hour), the same 429 for every limit.",
      body: forgotPasswordBody,
      responses: { 200: { description: "Link sent if the account exists", schema: messageBody }, ...JSON_BODY_ERRORS, ...RATE_LIMITED, ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, forgotPasswordBody);
      if (body instanceof Response) return body;
      // Per client, per address (known or not: the 429 reveals nothing either) and server-wide.
      const limited = await checkForgotPasswordAllowed(deps, { email: body.email, ip: deps.clientIp(c) });
      if (limited) {
        logger.info({ event: "password_reset.rate_limited", requestId: c.get("requestId") });
        return limited;
      }
      resets.requestReset(body.email, eventContext(c, deps)); // after the response: same answer, same time for every address
      logger.info({ event: "password_reset.requested", requestId: c.get("requestId") });
      return json(LINK_SENT);
    },
  );

  // The link in the email lands here. A GET (or HEAD) never changes anything:
  // mail scanners and prefetchers open every link, so only the POST spends the
  // token. A browser (its Accept names text/html) gets the page with the
  // new-password form when PAGES_ENABLED; any other client (application/json,
  // curl's */*, no Accept) keeps the JSON that says what to POST.
  r.get(
    {
      path: "/reset-password", tag: "Password reset", auth: "none",
      summary: "Explains how to use a reset link (changes nothing)",
      description:
        "With PAGES_ENABLED, a request whose `Accept` names `text/html` gets the HTML page with the new-password form instead; it changes nothing either.",
      query: [{ name: "token", description: "The reset token from the emailed link (POST it with the new password)", schema: { type: "string" } }],
      responses: { 200: { description: "What to POST", schema: messageBody.loose() } },
    },
    (c) => {
      const res =
        deps.config.pagesEnabled && /\btext\/html\b/i.test(c.req.header("accept") ?? "")
          ? htmlResponse(underBasePath(resetPasswordPage(c.req.query("token")), deps.config.basePath))
          : json({
              message:
                'To set a new password, POST {"token": "<the token from this link>", "newPassword": "..."} as JSON to /reset-password.',
            });
      res.headers.set("vary", "Accept"); // two answers for one URL: no cache may hand one to the other's client
      return res;
    },
  );

  r.post(
    {
      path: "/reset-password", tag: "Password reset", auth: "none",
      summary: "Set a new password with a reset token",
      description: "Consumes the token and ends every session and token family of the user. Limited per client IP (10 in 15 minutes).",
      body: resetPasswordBody,
      responses: { 200: { description: "Password reset", schema: messageBody }, ...JSON_BODY_ERRORS, ...RATE_LIMITED, ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, resetPasswordBody);
      if (body instanceof Response) return body;
      const limited = await checkResetPasswordAllowed(deps, deps.clientIp(c));
      if (limited) {
        logger.info({ event: "password_reset.rate_limited", requestId: c.get("requestId") });
        return limited;
      }
      // What can be judged without the account (a common password) is refused before the link is spent.
      const common = accounts.passwordProblem(body.newPassword, "");
      if (common) return invalidBody([{ path: "newPassword", message: common }]);
      const user = await resets.resetPassword(body.token, body.newPassword, eventContext(c, deps));
      if (!user) return refuse("invalidResetToken");
      if ("refused" in user) return invalidBody([{ path: "newPassword", message: `${user.refused}; request a new reset link` }]);
      return json({ message: "Password has been reset. Every session has been signed out; log in with the new password." });
    },
  );

  return r.routes;
}
