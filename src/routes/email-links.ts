// The emailed one-time links: each link's page has a button that POSTs its
// token here (the link's GET is that page and changes nothing: mail scanners
// open links). Verification (and asking for a new one), confirming a new
// address, and "this wasn't me". README: Email verification, Changing the address.
import type { AppEnv, Deps } from "../deps.js";
import { checkVerificationMailAllowed } from "../auth/rate-limit.js";
import { toPublicUser } from "../auth/users.js";
import { eventContext } from "../http/event-context.js";
import { parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, userBody } from "../http/route.js";
import { refuse } from "../refusals.js";
import { resendVerificationBody, linkTokenBody } from "../schemas.js";

/** The same words whether or not a link went out. */
const LINK_SENT = { message: "If this address belongs to an account that is not verified yet, a new verification link has been sent to it." };

export function emailLinkRoutes(deps: Deps) {
  const { verification, emailChanges, logger } = deps;
  const r = routeGroup<AppEnv>();

  r.post(
    {
      path: "/verify-email", tag: "Account", auth: "none",
      summary: "Prove an address with its emailed link",
      description: "Spends the link's token (single use; a newer link voids older ones). Needs no session: the link's page POSTs it.",
      body: linkTokenBody,
      responses: {
        200: { description: "Verified", schema: userBody.extend({ message: messageBody.shape.message }) },
        ...JSON_BODY_ERRORS,
        400: err("Invalid or expired verification link (also: a malformed body, with `issues`)"),
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, linkTokenBody);
      if (body instanceof Response) return body;
      const user = await verification.verify(body.token, eventContext(c, deps));
      if (!user) return refuse("invalidVerificationLink");
      logger.info({ event: "email_verification.done", requestId: c.get("requestId"), userId: user.id });
      return json({ message: "Email verified", user: toPublicUser(user) });
    },
  );

  r.post(
    {
      path: "/verify-email/resend", tag: "Account", auth: "none",
      summary: "Mail a new verification link",
      description:
        "Always the same 200, whether or not the address has an unverified account; limited like POST /forgot-password (per address, per client IP, server-wide), on counters of its own.",
      body: resendVerificationBody,
      responses: { 200: { description: "A link was sent if the account exists and is unverified", schema: messageBody }, ...JSON_BODY_ERRORS, ...RATE_LIMITED, ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, resendVerificationBody);
      if (body instanceof Response) return body;
      const context = eventContext(c, deps);
      const limited = await checkVerificationMailAllowed(deps, { email: body.email, ip: context.ip ?? null });
      if (limited) return limited;
      verification.resend(body.email); // after the response: same answer, same time for every address
      return json(LINK_SENT);
    },
  );

  r.post(
    {
      path: "/email/confirm", tag: "Account", auth: "none",
      summary: "Confirm a new address with its emailed link",
      description:
        "Spends the link mailed to the new address: the account takes it (verified), and every other session and bearer token of the account ends (the confirming browser's own session, if it is this account's, stays). Needs no session.",
      body: linkTokenBody,
      responses: {
        200: { description: "Changed", schema: userBody.extend({ message: messageBody.shape.message }) },
        ...JSON_BODY_ERRORS,
        400: err("Invalid or expired link (also: a malformed body, with `issues`)"),
        409: err("Email already registered (another account took the address first)"),
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, linkTokenBody);
      if (body instanceof Response) return body;
      const current = await deps.checkSession(c.req.header("cookie") ?? null);
      const keep = typeof current === "object" ? current.session : undefined;
      const user = await emailChanges.confirm(body.token, eventContext(c, deps, { session: keep }), keep);
      if (user === "taken") return refuse("emailTaken");
      if (!user) return refuse("invalidLink");
      logger.info({ event: "email_change.done", requestId: c.get("requestId"), userId: user.id });
      return json({ message: "Email address changed", user: toPublicUser(user) });
    },
  );

  r.post(
    {
      path: "/not-me", tag: "Account", auth: "none",
      summary: "\"This wasn't me\": take the account back",
      description:
        "Spends the link of a security notice: the account gets back the address the notice went to (unless another account has it now), every session and bearer token ends, the password is replaced by an unknown one, and a reset link goes to that address. Needs no session.",
      body: linkTokenBody,
      responses: { 200: { description: "Secured", schema: messageBody }, ...JSON_BODY_ERRORS, 400: err("Invalid or expired link (also: a malformed body, with `issues`)"), ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, linkTokenBody);
      if (body instanceof Response) return body;
      if (!(await emailChanges.notMe(body.token, eventContext(c, deps)))) return refuse("invalidLink");
      return json({ message: "Every device has been signed out. Check your email for a link to choose a new password." });
    },
  );

  return r.routes;
}
