// Sign up, log in, log out (who am I: routes/me.ts). Each handler reads top to bottom:
// parse, check, act, answer.
import type { Context } from "hono";
import { challengeCookies, clearSessionCookie, presentedSessionTokens, sessionCookie } from "../auth/cookies.js";
import { newEvent } from "../events.js";
import { eventContext } from "../http/event-context.js";
import { attemptLogin, attemptSecondFactor, passwordStillCurrent, refuseDisabled, refuseUnverified } from "../auth/credentials.js";
import { CHALLENGE_TTL_MS } from "../auth/mfa.js";
import { checkSignupAllowed, recordLoginSuccess } from "../auth/rate-limit.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { CLEAR_COOKIE, COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, SET_COOKIE, userBody } from "../http/route.js";
import { refuse } from "../refusals.js";
import { loginBody, loginMfaBody, mfaRequiredBody, signupBody } from "../schemas.js";
import type { Aal, UserRow } from "../store/store.js";
import type { EventContext } from "../events.js";

/** EMAIL_VERIFICATION=required: what every signup is answered, new address or taken. */
const CHECK_YOUR_EMAIL = { message: "Check your email: a link in it finishes signing up." };

export function authRoutes(deps: Deps) {
  const { store, sessions, accounts, verification, cookies, clock, logger } = deps;
  const r = routeGroup<AppEnv>();
  const required = verification.mode === "required";

  /**
   * The end of every cookie sign-in: the sessions the browser arrived with
   * end (session fixation: next to a planted cookie, the real one is among
   * them), a new one begins at `aal`, and the 200 carries its cookie.
   */
  async function signIn(c: Context<AppEnv>, user: UserRow, context: EventContext, aal: Aal, extraCookies: string[] = []): Promise<Response> {
    for (const previous of presentedSessionTokens(c.req.raw, cookies)) await sessions.revoke(previous);
    const { token, session } = await sessions.create(user.id, context, { aal });
    if (!(await passwordStillCurrent(deps, user))) {
      await sessions.revoke(token); // the password changed under this login
      deps.metrics.login("cookie", "failure");
      return refuse("invalidCredentials");
    }
    const now = clock();
    await store.recordLogin(user.id, now, newEvent("login.success", now, { ...context, sessionId: session.id }, user.id, { client: "cookie", aal }));
    logger.info({ event: "login.success", requestId: c.get("requestId"), userId: user.id });
    deps.notices.signedIn(user, context);
    deps.metrics.login("cookie", "success");
    const setCookies = [...extraCookies, sessionCookie(token, cookies)].map((cookie): [string, string] => ["set-cookie", cookie]);
    return json({ user: toPublicUser({ ...user, lastLoginAt: now }) }, 200, setCookies);
  }

  r.post(
    {
      path: "/signup", tag: "Account", auth: "none",
      summary: "Create an account",
      description:
        "Creates the user; no session is started (log in next). Email: trimmed and lower-cased. Password: 8 to 1024 characters, taken exactly as typed. " +
        "With EMAIL_VERIFICATION=optional (default) a verification link is mailed; with `required`, a new and a taken address get the same 202 (the taken address's owner is told by mail) and no 409 is ever sent.",
      body: signupBody,
      responses: {
        201: { description: "Created (EMAIL_VERIFICATION off or optional)", schema: userBody },
        202: { description: "EMAIL_VERIFICATION=required: check your email (the same for a new and a taken address)", schema: messageBody },
        ...JSON_BODY_ERRORS,
        403: err("Cross-site request refused, or `Sign-up is by invitation only` (SIGNUP=invite)"),
        409: err("Email already registered (not with EMAIL_VERIFICATION=required)"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      if (deps.config.signup === "invite") return refuse("signupClosed"); // before reading anything: the same for every address
      const body = await parseJsonBody(c.req.raw, signupBody);
      if (body instanceof Response) return body;
      const ip = deps.clientIp(c);
      const limited = await checkSignupAllowed(deps, ip);
      if (limited) return limited;
      const context = eventContext(c, deps);
      const user = await accounts.create({ email: body.email, password: body.password, role: "user" }, context);
      if ("refused" in user && user.refused === "weak_password") return invalidBody([{ path: "password", message: user.reason }]);
      if ("refused" in user) {
        if (!required) return refuse("emailTaken");
        // The same answer, after the same Argon2 work and a store write, as for a new address; the owner is told by mail.
        await deps.passwords.verifyDummy(body.password);
        await verification.noticeTakenAddress(body.email, context);
        return json(CHECK_YOUR_EMAIL, 202);
      }
      logger.info({ event: "signup", requestId: c.get("requestId"), userId: user.id });
      verification.afterSignup(user);
      return required ? json(CHECK_YOUR_EMAIL, 202) : json({ user: toPublicUser(user) }, 201);
    },
  );

  r.post(
    {
      path: "/login", tag: "Session", auth: "none",
      summary: "Log in",
      description:
        "Starts a new session and ends the one the request arrived with. Unknown email and wrong password get the same answer. " +
        "When the account has a second factor, a right password answers `{mfaRequired: true, methods}` with a 5-minute HttpOnly challenge cookie and no session: POST /login/mfa finishes.",
      body: loginBody,
      responses: {
        200: { description: "Signed in, or (second factor) `{mfaRequired, methods}` and the challenge cookie", schema: userBody.or(mfaRequiredBody), headers: SET_COOKIE },
        ...JSON_BODY_ERRORS,
        401: err("Invalid email or password (no Set-Cookie)"),
        403: err("Cross-site request refused, `Account disabled` or `Email not verified` (EMAIL_VERIFICATION=required); the last two only after a correct password"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, loginBody);
      if (body instanceof Response) return body;
      const context = eventContext(c, deps);
      const attempt = { email: body.email, ip: context.ip ?? null };
      // A right password alone does not clear the failure counts while a second factor is still to come.
      const user = await attemptLogin(deps, attempt, body.password, { context, resetCounters: false });
      if (user instanceof Response) {
        logger.info({ event: user.status === 429 ? "login.rate_limited" : "login.failure", requestId: c.get("requestId") });
        deps.metrics.login("cookie", user.status === 429 ? "rate_limited" : "failure");
        return user;
      }
      const refused = (await refuseDisabled(deps, user, context)) ?? (await refuseUnverified(deps, user, context));
      if (refused) return refused;
      const methods = await deps.mfa.methods(user.id);
      if (methods.length > 0) {
        const challenge = await deps.mfa.createChallenge(user.id, "cookie");
        const cookie = challengeCookies.set(challenge, cookies, CHALLENGE_TTL_MS / 1000);
        return json({ mfaRequired: true, methods }, 200, { "set-cookie": cookie });
      }
      await recordLoginSuccess(deps, attempt);
      return signIn(c, user, context, "aal1");
    },
  );

  r.post(
    {
      path: "/login/mfa", tag: "Session", auth: "none",
      summary: "Finish a log-in with the second factor",
      description:
        "After POST /login answered `mfaRequired`: `{code}` from the authenticator app or `{recoveryCode}`, with the challenge cookie it set (5 minutes). " +
        "Wrong codes count toward the same limits and lockout as wrong passwords; a mistyped code can be retried while the challenge lasts. The new session is at aal2.",
      body: loginMfaBody,
      responses: {
        200: { description: "Signed in", schema: userBody, headers: SET_COOKIE },
        ...JSON_BODY_ERRORS,
        401: err("`Invalid code`, or `Sign-in expired, log in again` (no live challenge)"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, loginMfaBody);
      if (body instanceof Response) return body;
      const challenge = challengeCookies.read(c.req.raw, cookies);
      const userId = await deps.mfa.challengeUser(challenge, "cookie");
      const user = userId ? await store.findUserById(userId) : null;
      if (!challenge || !user) return refuse("challengeExpired", undefined, { "set-cookie": challengeCookies.clear(cookies) });
      const context = eventContext(c, deps);
      const method = await attemptSecondFactor(deps, { email: user.email, ip: context.ip ?? null }, user.id, body, context);
      if (method instanceof Response) {
        deps.metrics.login("cookie", method.status === 429 ? "rate_limited" : "failure");
        return method;
      }
      // Exactly one finish per challenge, however many arrive at once.
      if (!(await deps.mfa.consumeChallenge(challenge, "cookie"))) return refuse("challengeExpired", undefined, { "set-cookie": challengeCookies.clear(cookies) });
      if (method === "recovery_code") deps.notices.secondFactorChanged(user, "recovery_code_used", context);
      return signIn(c, user, context, "aal2", [challengeCookies.clear(cookies)]);
    },
  );

  // No authentication on purpose: logging out must work with an expired,
  // revoked or missing session, and be idempotent.
  r.post(
    {
      path: "/logout", tag: "Session", auth: "none",
      summary: "Log out",
      description: "Ends the session named by the cookie, if any, and clears the cookie. Always 200, however often. Any other method is 405 with `Allow: POST`.",
      responses: { 200: { description: "Logged out", schema: messageBody, headers: CLEAR_COOKIE }, ...COMMON },
    },
    async (c) => {
      const event = newEvent("logout", clock(), eventContext(c, deps), null, { client: "cookie" });
      for (const token of presentedSessionTokens(c.req.raw, cookies)) await sessions.revoke(token, event);
      logger.info({ event: "logout", requestId: c.get("requestId") });
      return json({ message: "Logged out" }, 200, { "set-cookie": clearSessionCookie(cookies) });
    },
  );

  return r.routes;
}
