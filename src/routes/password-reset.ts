// Password reset by email: ask for a link, then set a new password with it.
import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import { checkForgotPasswordAllowed, checkResetPasswordAllowed } from "../auth/rate-limit.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { refuse } from "../refusals.js";
import { forgotPasswordBody, resetPasswordBody } from "../schemas.js";

/** The same words whether or not the account exists. */
const LINK_SENT = {
  message: "If an account exists for this email, a password reset link has been sent to it.",
};

export function passwordResetRoutes(deps: Deps) {
  const { resets, accounts, logger } = deps;
  const app = new Hono<AppEnv>();

  app.post("/forgot-password", async (c) => {
    const body = await parseJsonBody(c.req.raw, forgotPasswordBody);
    if (body instanceof Response) return body;
    // Per client, per address (known or not: the 429 reveals nothing either) and server-wide.
    const limited = await checkForgotPasswordAllowed(deps, { email: body.email, ip: deps.clientIp(c) });
    if (limited) {
      logger.info({ event: "password_reset.rate_limited", requestId: c.get("requestId") });
      return limited;
    }
    resets.requestReset(body.email); // after the response: same answer, same time for every address
    logger.info({ event: "password_reset.requested", requestId: c.get("requestId") });
    return json(LINK_SENT);
  });

  // The link in the email lands here. A GET never changes anything (mail
  // scanners follow links), so it only says what to do with the token.
  app.get("/reset-password", () =>
    json({
      message:
        'To set a new password, POST {"token": "<the token from this link>", "newPassword": "..."} as JSON to /reset-password.',
    }),
  );

  app.post("/reset-password", async (c) => {
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
    const user = await resets.resetPassword(body.token, body.newPassword);
    if (!user) return refuse("invalidResetToken");
    if ("refused" in user) return invalidBody([{ path: "newPassword", message: `${user.refused}; request a new reset link` }]);
    return json({ message: "Password has been reset. Every session has been signed out; log in with the new password." });
  });

  return app;
}
