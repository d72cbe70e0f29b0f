// Every refusal Latchkey answers, written once: its status and its sentence.
// Routes answer with refuse(code), the CLI prints REFUSALS[code].message, and
// the OpenAPI document describes a response with the same sentence, so the
// three cannot drift. The body is always `{ error: <message>, ...extra }`.
import { jsonError } from "./http/responses.js";

export const REFUSALS = {
  // 400
  invalidBody: { status: 400, message: "Invalid request body" },
  invalidQuery: { status: 400, message: "Invalid query" },
  malformedJson: { status: 400, message: "Malformed JSON body" },
  invalidUtf8: { status: 400, message: "Request body must be valid UTF-8" },
  unreadableBody: { status: 400, message: "Request body could not be read" },
  unexpectedBody: { status: 400, message: "This route takes no request body" },
  malformedRequest: { status: 400, message: "Malformed request target or Host header" },
  invalidResetToken: { status: 400, message: "Invalid or expired token" },
  invalidVerificationLink: { status: 400, message: "Invalid or expired verification link" },
  invalidLink: { status: 400, message: "Invalid or expired link" },
  invalidCode: { status: 400, message: "Invalid code" },
  // 401
  unauthorized: { status: 401, message: "Unauthorized" },
  invalidCredentials: { status: 401, message: "Invalid email or password" },
  wrongCurrentPassword: { status: 401, message: "Current password is incorrect" },
  wrongPassword: { status: 401, message: "Password is incorrect" },
  invalidRefreshToken: { status: 401, message: "Invalid or expired refresh token" },
  wrongCode: { status: 401, message: "Invalid code" },
  challengeExpired: { status: 401, message: "Sign-in expired, log in again" },
  reauthRequired: { status: 401, message: "Re-authentication required" },
  // 403
  forbidden: { status: 403, message: "Forbidden" },
  emailNotVerified: { status: 403, message: "Email not verified" },
  crossSite: { status: 403, message: "Cross-site request refused" },
  accountDisabled: { status: 403, message: "Account disabled" },
  notWhileImpersonating: { status: 403, message: "Not allowed while an administrator is signed in as this user" },
  cannotImpersonateAdmin: { status: 403, message: "Admins cannot be impersonated" },
  signupClosed: { status: 403, message: "Sign-up is by invitation only" },
  mfaRequiredForAdmins: { status: 403, message: "Admins need a second factor: enrol one on /account first" },
  // 404
  notFound: { status: 404, message: "Not found" },
  userNotFound: { status: 404, message: "User not found" },
  sessionNotFound: { status: 404, message: "Session not found" },
  // 405, 409, 415 (the 413 names the configured limit: app.ts)
  methodNotAllowed: { status: 405, message: "Method not allowed" },
  emailTaken: { status: 409, message: "Email already registered" },
  lastAdmin: { status: 409, message: "Cannot remove the last admin" },
  mfaAlreadyEnabled: { status: 409, message: "Two-factor authentication is already on" },
  mfaNotPending: { status: 409, message: "No authenticator is being set up: start with POST /mfa/totp/setup" },
  notImpersonating: { status: 409, message: "This session is not an impersonation" },
  mfaNotEnabled: { status: 409, message: "Two-factor authentication is not on" },
  notJson: { status: 415, message: "Content-Type must be application/json" },
  // 429
  tooManyAttempts: { status: 429, message: "Too many attempts, try again later" },
  tooManyResets: { status: 429, message: "Too many password reset requests, try again later" },
  tooManyVerificationMails: { status: 429, message: "Too many verification emails requested, try again later" },
  // 5xx
  internal: { status: 500, message: "Internal server error" },
  serverBusy: { status: 503, message: "Server busy, try again" },
  unavailable: { status: 503, message: "Service unavailable" },
  mfaUnavailable: { status: 503, message: "Two-factor authentication is unavailable: the server has no DATA_ENCRYPTION_KEY" },
} as const satisfies Record<string, { status: number; message: string }>;

export type RefusalCode = keyof typeof REFUSALS;

/** The 413's sentence, which names the configured BODY_LIMIT. */
export const bodyTooLargeMessage = (limitBytes: number) => `Request body must be at most ${limitBytes} bytes`;

/** The refusal's JSON answer: `{ error, ...extra }` with its status. */
export function refuse(code: RefusalCode, extra?: Record<string, unknown>, headers?: HeadersInit): Response {
  const { status, message } = REFUSALS[code];
  return jsonError(status, message, extra, headers);
}
