// Email verification: the emailed link's button POSTs its token here (the
// link's GET is a page that changes nothing: mail scanners open links), and
// a new link can be asked for. README: Email verification.
import type { AppEnv, Deps } from "../deps.js";
import { checkVerificationMailAllowed } from "../auth/rate-limit.js";
import { toPublicUser } from "../auth/users.js";
import { eventContext } from "../http/event-context.js";
import { parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, userBody } from "../http/route.js";
import { refuse } from "../refusals.js";
import { resendVerificationBody, verifyEmailBody } from "../schemas.js";

/** The same words whether or not a link went out. */
const LINK_SENT = { message: "If this address belongs to an account that is not verified yet, a new verification link has been sent to it." };

export function verifyEmailRoutes(deps: Deps) {
  const { verification, logger } = deps;
  const r = routeGroup<AppEnv>();

  r.post(
    {
      path: "/verify-email", tag: "Account", auth: "none",
      summary: "Prove an address with its emailed link",
      description: "Spends the link's token (single use; a newer link voids older ones). Needs no session: the link's page POSTs it.",
      body: verifyEmailBody,
      responses: {
        200: { description: "Verified", schema: userBody.extend({ message: messageBody.shape.message }) },
        ...JSON_BODY_ERRORS,
        400: err("Invalid or expired verification link (also: a malformed body, with `issues`)"),
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, verifyEmailBody);
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

  return r.routes;
}
