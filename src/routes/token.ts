// Bearer tokens for non-browser clients. These handlers never read the
// session cookie, and the cookie routes never read an Authorization header:
// so these are exempt from the cross-site check.
import type { Context } from "hono";
import { attemptLogin, attemptSecondFactor, passwordStillCurrent, refuseDisabled, refuseUnverified } from "../auth/credentials.js";
import { recordLoginSuccess } from "../auth/rate-limit.js";
import type { AppEnv, Deps } from "../deps.js";
import type { EventContext } from "../events.js";
import { newEvent } from "../events.js";
import { eventContext } from "../http/event-context.js";
import { parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, UNVERIFIED, userBody } from "../http/route.js";
import { refuse } from "../refusals.js";
import { loginBody, mfaRequiredBody, refreshBody, tokenLoginMfaBody, tokenPairSchema } from "../schemas.js";
import type { UserRow } from "../store/store.js";
import { z } from "zod";

const bearerChallengeBody = mfaRequiredBody.extend({ challengeToken: z.string().describe("for POST /token/login/mfa, within 5 minutes") });

export function tokenRoutes(deps: Deps) {
  const { store, bearer, clock, logger } = deps;
  const r = routeGroup<AppEnv>();

  /** The end of every bearer sign-in: a new token pair, unless the password changed under it. */
  async function issueTokens(c: Context<AppEnv>, user: UserRow, context: EventContext, aal: "aal1" | "aal2"): Promise<Response> {
    const tokens = await bearer.issue(user);
    if (!(await passwordStillCurrent(deps, user))) {
      await bearer.revoke(tokens.refreshToken); // the password changed under this login: its tokens must not outlive it
      deps.metrics.login("bearer", "failure");
      return refuse("invalidCredentials");
    }
    const now = clock();
    await store.recordLogin(user.id, now, newEvent("login.success", now, context, user.id, { client: "bearer", aal }));
    logger.info({ event: "token.login_success", requestId: c.get("requestId"), userId: user.id });
    deps.notices.signedIn(user, context);
    deps.metrics.login("bearer", "success");
    return json(tokens);
  }

  r.post(
    {
      path: "/token/login", tag: "Tokens", auth: "none", crossSite: "exempt",
      summary: "Log in for a non-browser client",
      description:
        "Same credentials, limits and answers as POST /login, but returns a bearer access token and a refresh token instead of a cookie. Exempt from the cross-site check: it never reads cookies. " +
        "When the account has a second factor, a right password answers `{mfaRequired: true, methods, challengeToken}` and no tokens: POST /token/login/mfa finishes.",
      body: loginBody,
      responses: { 200: { description: "Token pair, or (second factor) the challenge", schema: tokenPairSchema.or(bearerChallengeBody) }, ...JSON_BODY_ERRORS, 401: err("Invalid email or password"), ...UNVERIFIED, ...RATE_LIMITED, ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, loginBody);
      if (body instanceof Response) return body;
      const context = eventContext(c, deps);
      const attempt = { email: body.email, ip: context.ip ?? null };
      const user = await attemptLogin(deps, attempt, body.password, { context, resetCounters: false });
      if (user instanceof Response) {
        logger.info({ event: user.status === 429 ? "token.login_rate_limited" : "token.login_failure", requestId: c.get("requestId") });
        deps.metrics.login("bearer", user.status === 429 ? "rate_limited" : "failure");
        return user;
      }
      const refused = (await refuseDisabled(deps, user, context)) ?? (await refuseUnverified(deps, user, context));
      if (refused) return refused;
      const methods = await deps.mfa.methods(user.id);
      if (methods.length > 0) return json({ mfaRequired: true, methods, challengeToken: await deps.mfa.createChallenge(user.id, "bearer") });
      await recordLoginSuccess(deps, attempt);
      return issueTokens(c, user, context, "aal1");
    },
  );

  r.post(
    {
      path: "/token/login/mfa", tag: "Tokens", auth: "none", crossSite: "exempt",
      summary: "Finish a bearer log-in with the second factor",
      description:
        "After POST /token/login answered `mfaRequired`: the `challengeToken` with `{code}` or `{recoveryCode}`. Same limits, lockout and answers as POST /login/mfa; a challenge of one kind (cookie or bearer) never finishes the other.",
      body: tokenLoginMfaBody,
      responses: {
        200: { description: "Token pair", schema: tokenPairSchema },
        ...JSON_BODY_ERRORS,
        401: err("`Invalid code`, or `Sign-in expired, log in again`"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, tokenLoginMfaBody);
      if (body instanceof Response) return body;
      const userId = await deps.mfa.challengeUser(body.challengeToken, "bearer");
      const user = userId ? await store.findUserById(userId) : null;
      if (!user) return refuse("challengeExpired");
      const context = eventContext(c, deps);
      const method = await attemptSecondFactor(deps, { email: user.email, ip: context.ip ?? null }, user.id, body, context);
      if (method instanceof Response) {
        deps.metrics.login("bearer", method.status === 429 ? "rate_limited" : "failure");
        return method;
      }
      if (!(await deps.mfa.consumeChallenge(body.challengeToken, "bearer"))) return refuse("challengeExpired");
      if (method === "recovery_code") deps.notices.secondFactorChanged(user, "recovery_code_used", context);
      return issueTokens(c, user, context, "aal2");
    },
  );

  r.post(
    {
      path: "/token/refresh", tag: "Tokens", auth: "none", crossSite: "exempt",
      summary: "Trade a refresh token for a new pair",
      description: "The refresh token is used up. Presenting one that was already used revokes its whole family (reuse detection).",
      body: refreshBody,
      responses: { 200: { description: "New token pair", schema: tokenPairSchema }, ...JSON_BODY_ERRORS, 401: err("Invalid, expired or reused refresh token"), ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, refreshBody);
      if (body instanceof Response) return body;
      const result = await bearer.refresh(body.refreshToken, eventContext(c, deps));
      if ("status" in result) {
        logger.info({ event: "token.refresh_refused", requestId: c.get("requestId"), reason: result.status });
        return refuse("invalidRefreshToken");
      }
      return json(result);
    },
  );

  r.get(
    {
      path: "/token/me", tag: "Tokens", auth: "bearer", crossSite: "exempt",
      summary: "The user named by a bearer access token",
      responses: {
        200: { description: "The user", schema: userBody },
        401: err("Missing, malformed, expired, wrongly signed or revoked token", { "WWW-Authenticate": "Bearer" }),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await bearer.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      return json({ user: auth.user });
    },
  );

  // Idempotent like /logout: an unknown or already revoked token is not an error.
  r.post(
    {
      path: "/token/logout", tag: "Tokens", auth: "none", crossSite: "exempt",
      summary: "Revoke a refresh token's family",
      body: refreshBody,
      responses: { 200: { description: "Logged out (always)", schema: messageBody }, ...JSON_BODY_ERRORS, ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, refreshBody);
      if (body instanceof Response) return body;
      await bearer.revoke(body.refreshToken, eventContext(c, deps));
      logger.info({ event: "token.logout", requestId: c.get("requestId") });
      return json({ message: "Logged out" });
    },
  );

  return r.routes;
}
