// Second factor routes: enrolling and removing an authenticator app, recovery
// codes, and POST /reauth, which refreshes a session's proof for sensitive
// actions. Every change here needs a fresh re-authentication (auth/reauth.ts)
// and ends the account's other sessions through the account lifecycle.
import { z } from "zod";
import type { Authenticated } from "../auth/authenticate.js";
import { sessionCookie } from "../auth/cookies.js";
import { attemptLogin, attemptSecondFactor } from "../auth/credentials.js";
import { NoDataKeyError } from "../auth/mfa.js";
import { reauthRefusal } from "../auth/reauth.js";
import { iso, toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { newEvent } from "../events.js";
import { invalidBody, parseJsonBody, refuseBody } from "../http/body.js";
import { eventContext } from "../http/event-context.js";
import { json } from "../http/responses.js";
import { COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, SET_COOKIE, UNAUTHORIZED } from "../http/route.js";
import { refuse } from "../refusals.js";
import { currentSessionSchema, enableTotpBody, reauthBody, userSchema } from "../schemas.js";

const REAUTH = { 401: err("Not signed in, or `Re-authentication required` (`reauth: {maxAge, methods}`: POST /reauth first)") };
const recoveryCodesBody = z.object({ recoveryCodes: z.array(z.string()).describe("10 single-use codes, shown this once") });

export function mfaRoutes(deps: Deps) {
  const { mfa, sessions, accounts, cookies, clock, logger } = deps;
  const r = routeGroup<AppEnv>();

  /** The signed-in user, fresh enough for a sensitive action, or the 401. */
  async function freshUser(request: Request): Promise<Authenticated | Response> {
    const auth = await deps.authenticate(request);
    if (auth instanceof Response) return auth;
    return (await reauthRefusal(deps, auth)) ?? auth;
  }

  r.get(
    {
      path: "/mfa", tag: "Second factor", auth: "cookie",
      summary: "My second factors",
      responses: {
        200: { description: "What is on", schema: z.object({ totp: z.boolean(), recoveryCodesLeft: z.number().int() }) },
        ...UNAUTHORIZED,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const on = (await mfa.methods(auth.user.id)).length > 0;
      return json({ totp: on, recoveryCodesLeft: on ? await mfa.recoveryCodesLeft(auth.user.id) : 0 });
    },
  );

  r.post(
    {
      path: "/mfa/totp/setup", tag: "Second factor", auth: "cookie",
      summary: "Start enrolling an authenticator app",
      description:
        "A new secret, as a key to type, an otpauth:// URI and its QR code (SVG). Nothing is on yet: POST /mfa/totp/enable with a code from the app turns it on. Calling it again replaces a secret not yet enabled.",
      responses: {
        200: { description: "The secret", schema: z.object({ secret: z.string().describe("base32"), otpauthUrl: z.string(), qrSvg: z.string() }) },
        400: err("This route takes no request body"),
        ...REAUTH,
        409: err("Two-factor authentication is already on"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await freshUser(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await refuseBody(c.req.raw);
      if (body) return body;
      try {
        const secret = await mfa.setup(auth.user);
        return secret === "enabled" ? refuse("mfaAlreadyEnabled") : json(secret);
      } catch (error) {
        if (error instanceof NoDataKeyError) return refuse("mfaUnavailable");
        throw error;
      }
    },
  );

  r.post(
    {
      path: "/mfa/totp/enable", tag: "Second factor", auth: "cookie",
      summary: "Turn on the authenticator app with a code from it",
      description:
        "Answers the 10 recovery codes, shown only this once. This session goes on under a new token at aal2; every other session and bearer token of the account ends.",
      body: enableTotpBody,
      responses: {
        200: { description: "On", schema: recoveryCodesBody, headers: SET_COOKIE },
        ...JSON_BODY_ERRORS,
        ...REAUTH,
        409: err("No authenticator is being set up"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await freshUser(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, enableTotpBody);
      if (body instanceof Response) return body;
      const context = eventContext(c, deps, auth);
      const enabled = await mfa.enable(auth.user, body.code, context);
      if (enabled === "not_pending") return refuse("mfaNotPending");
      if (enabled === "invalid_code") return invalidBody([{ path: "code", message: "Invalid code: type the code the app shows now" }]);
      // What this browser just proved is a second factor: it goes on at aal2, everyone else is out.
      const fresh = await sessions.rotate(auth.session, context, { aal: "aal2", authenticatedAt: clock() });
      await accounts.endSessions(auth.user.id, { keep: fresh.session, context });
      deps.notices.secondFactorChanged(auth.user, "enabled", context);
      logger.info({ event: "mfa.totp_enabled", requestId: c.get("requestId"), userId: auth.user.id });
      return json(enabled, 200, { "set-cookie": sessionCookie(fresh.token, cookies) });
    },
  );

  r.post(
    {
      path: "/mfa/totp/disable", tag: "Second factor", auth: "cookie",
      summary: "Turn off the authenticator app",
      description: "Removes it and the recovery codes. Every other session and bearer token of the account ends.",
      responses: { 200: { description: "Off", schema: messageBody }, 400: err("This route takes no request body"), ...REAUTH, 409: err("Two-factor authentication is not on"), ...COMMON },
    },
    async (c) => {
      const auth = await freshUser(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await refuseBody(c.req.raw);
      if (body) return body;
      const context = eventContext(c, deps, auth);
      if (!(await mfa.disable(auth.user.id, context))) return refuse("mfaNotEnabled");
      await accounts.endSessions(auth.user.id, { keep: auth.session, context });
      deps.notices.secondFactorChanged(auth.user, "disabled", context);
      logger.info({ event: "mfa.totp_disabled", requestId: c.get("requestId"), userId: auth.user.id });
      return json({ message: "Two-factor authentication is off" });
    },
  );

  r.post(
    {
      path: "/mfa/recovery-codes", tag: "Second factor", auth: "cookie",
      summary: "New recovery codes",
      description: "10 new single-use codes, shown only this once; the old ones stop working.",
      responses: { 200: { description: "The codes", schema: recoveryCodesBody }, 400: err("This route takes no request body"), ...REAUTH, 409: err("Two-factor authentication is not on"), ...COMMON },
    },
    async (c) => {
      const auth = await freshUser(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await refuseBody(c.req.raw);
      if (body) return body;
      const codes = await mfa.regenerateRecoveryCodes(auth.user.id, eventContext(c, deps, auth));
      return codes ? json({ recoveryCodes: codes }) : refuse("mfaNotEnabled");
    },
  );

  r.post(
    {
      path: "/reauth", tag: "Second factor", auth: "cookie",
      summary: "Prove who I am again",
      description:
        "The password and, when the account has a second factor, `code` or `recoveryCode`. Counts toward the login limits and lockout. The session goes on under a new token with `authenticatedAt` now (and `aal2` with a second factor); sensitive actions then work for REAUTH_MAX_AGE.",
      body: reauthBody,
      responses: {
        200: { description: "Proven", schema: z.object({ user: userSchema, session: currentSessionSchema }), headers: SET_COOKIE },
        ...JSON_BODY_ERRORS,
        401: err("Not signed in, `Password is incorrect` or `Invalid code`"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      if (auth.session.impersonatorId !== null) return refuse("notWhileImpersonating");
      const body = await parseJsonBody(c.req.raw, reauthBody);
      if (body instanceof Response) return body;
      const context = eventContext(c, deps, auth);
      const attempt = { email: auth.user.email, ip: context.ip ?? null };
      const methods = await mfa.methods(auth.user.id);
      if (methods.length > 0 && body.code === undefined && body.recoveryCode === undefined) {
        return invalidBody([{ path: "code", message: "code (or recoveryCode) is required: this account has two-factor authentication" }]);
      }
      const row = await attemptLogin(deps, attempt, body.password, {
        refusal: "wrongPassword", event: "password.confirm_failure", context, resetCounters: methods.length === 0,
      });
      if (row instanceof Response) return row;
      if (row.id !== auth.user.id) return refuse("wrongPassword");
      if (methods.length > 0) {
        const method = await attemptSecondFactor(deps, attempt, row.id, body, context);
        if (method instanceof Response) return method;
        if (method === "recovery_code") deps.notices.secondFactorChanged(row, "recovery_code_used", context);
      }
      const now = clock();
      const aal = methods.length > 0 ? "aal2" : "aal1";
      const fresh = await sessions.rotate(auth.session, context, { aal, authenticatedAt: now });
      await deps.store.events.append(newEvent("session.reauthenticated", now, { ...context, sessionId: fresh.session.id }, row.id, { aal }));
      const session = { id: fresh.session.id, authenticatedAt: iso(now), aal, impersonatorId: null };
      return json({ user: toPublicUser(row), session }, 200, { "set-cookie": sessionCookie(fresh.token, cookies) });
    },
  );

  return r.routes;
}
