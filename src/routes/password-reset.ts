// Password reset by email: ask for a link, then set a new password with it.
import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import { parseJsonBody } from "../http/body.js";
import { json, jsonError } from "../http/responses.js";
import { forgotPasswordBody, resetPasswordBody } from "../schemas.js";

const HOUR = 3_600_000;
/** Reset emails per address per hour. */
export const FORGOT_PASSWORD_LIMIT = 3;


/** The same words whether or not the account exists. */
const LINK_SENT = {
  message: "If an account exists for this email, a password reset link has been sent to it.",
};

export function passwordResetRoutes(deps: Deps) {
  const { store, resets, clock, logger } = deps;
  const app = new Hono<AppEnv>();

  app.post("/forgot-password", async (c) => {
    const body = await parseJsonBody(c.req.raw, forgotPasswordBody);
    if (body instanceof Response) return body;
    // Counted per address whether or not it has an account, so the 429 reveals nothing either.
    // The key holds a hash, not the address itself.
    const key = `forgot-password:${createHash("sha256").update(body.email).digest("hex")}`;
    const counter = await store.hitCounter(key, HOUR, clock());
    if (counter.count > FORGOT_PASSWORD_LIMIT) {
      const retryAfter = Math.max(1, Math.ceil((counter.resetAt - clock()) / 1000));
      return jsonError(429, "Too many password reset requests for this email, try again later", undefined, {
        "retry-after": String(retryAfter),
      });
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
    // LEAD: apply password policy (to body.newPassword, as for signup and password change)
    const user = await resets.resetPassword(body.token, body.newPassword);
    if (!user) return jsonError(400, "Invalid or expired token");
    return json({ message: "Password has been reset. Every session has been signed out; log in with the new password." });
  });

  return app;
}
