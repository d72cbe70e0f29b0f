// Request and response shapes, declared once with zod: routes validate with
// them and their TypeScript types come from them.
import { z } from "zod";

const codePoints = (s: string) => [...s].length;

// Email addresses are identities, not syntax puzzles: the only proof that an
// address works is a message delivered to it (password reset). So odd but
// single addresses are accepted -- the seed lesson's curl session signs up as
// "[email protected]", verbatim -- and only what cannot be one mailbox, or
// would make two identities look the same, is refused.

/**
 * The identity form of an address, used by every lookup (signup, login, reset,
 * CLI, admin): trimmed, NFC, then lower-cased. Lower-casing after NFC makes
 * every canonically equivalent spelling (NFC, NFD, ...) the same identity.
 */
export const normalizeEmail = (raw: string): string => raw.trim().normalize("NFC").toLowerCase();

const CONTROL_CHARACTERS = /[\p{Cc}\p{Cs}\u2028\u2029]/u;
// Invisible format characters (zero-width space/joiner, soft hyphen, BOM,
// bidi controls) and space characters other than the plain space: each would
// give a second account that displays exactly like the first.
const SPECIAL_SPACES = "\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"; // \p{Zs} but the plain space
const INVISIBLE_CHARACTERS = new RegExp(`[\\p{Cf}${SPECIAL_SPACES}]`, "u");
// What lets one string name several mailboxes, or a mailbox behind a display
// name or a comment: quotes, parentheses (comments), angle brackets, list
// separators, a second "@". (Brackets stay: user@[192.0.2.1] is an address.)
const NOT_ONE_MAILBOX = /["(),;<>]|@[^@]*@/;
// Every check above in one test, so a valid address costs one regex run.
const SUSPECT = new RegExp(`[\\p{Cc}\\p{Cs}\\p{Cf}${SPECIAL_SPACES}\\u2028\\u2029"(),;<>]|@[^@]*@`, "u");

/** Why an (already normalised) address is refused, or undefined when it is fine. */
function emailProblem(email: string): string | undefined {
  if (!SUSPECT.test(email)) return undefined;
  if (CONTROL_CHARACTERS.test(email)) return "Email must not contain control characters";
  if (INVISIBLE_CHARACTERS.test(email)) {
    return "Email must not contain invisible characters or special spaces (zero-width characters, soft hyphens, direction marks, no-break spaces)";
  }
  if (NOT_ONE_MAILBOX.test(email)) {
    return 'Email must be one plain address such as name@example.com: no display name, list, comment, quotes or second "@"';
  }
  return undefined;
}

export const emailSchema = z
  .string({ error: "Email must be a string" })
  .overwrite(normalizeEmail)
  .min(1, "Email is required")
  .max(320, "Email must be at most 320 characters")
  .superRefine((email, ctx) => {
    const problem = emailProblem(email);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** An email prefix to search by (admin list, CLI list): the same normalisation; any text an address may hold. */
export const emailPrefixSchema = z
  .string({ error: "email must be a string" })
  .overwrite(normalizeEmail)
  .max(320, "email must be at most 320 characters")
  .refine((e) => !CONTROL_CHARACTERS.test(e), "email must not contain control characters")
  .refine((e) => !INVISIBLE_CHARACTERS.test(e), "email must not contain invisible characters or special spaces");

/** A new password: 8 to 1024 characters, taken exactly as typed (no trimming). */
export const newPasswordSchema = z
  .string({ error: "Password must be a string" })
  .refine((p) => codePoints(p) >= 8, "Password must be at least 8 characters")
  .refine((p) => codePoints(p) <= 1024, "Password must be at most 1024 characters")
  .refine((p) => !/\p{Cs}/u.test(p), "Password must be valid Unicode text");

/** A password being checked: any non-empty string up to the maximum; the policy is not re-applied. */
export const currentPasswordSchema = z
  .string({ error: "Password must be a string" })
  .min(1, "Password is required")
  .refine((p) => codePoints(p) <= 1024, "Password must be at most 1024 characters");

export const signupBody = z.object({ email: emailSchema, password: newPasswordSchema });
export const loginBody = z.object({ email: emailSchema, password: currentPasswordSchema });

const totpCodeSchema = z.string({ error: "code must be a string" }).min(1, "code is required").max(16, "code must be at most 16 characters");
const recoveryCodeSchema = z
  .string({ error: "recoveryCode must be a string" })
  .min(1, "recoveryCode is required")
  .max(64, "recoveryCode must be at most 64 characters");

/** A second factor: a code from the authenticator app, or one of the recovery codes. */
export const secondFactorFields = { code: totpCodeSchema.optional(), recoveryCode: recoveryCodeSchema.optional() };
const oneFactor = (b: { code?: string | undefined; recoveryCode?: string | undefined }) => !(b.code !== undefined && b.recoveryCode !== undefined);
const ONE_FACTOR = { message: "Send code or recoveryCode, not both", path: ["recoveryCode"] };

export const loginMfaBody = z
  .object(secondFactorFields)
  .refine((b) => b.code !== undefined || b.recoveryCode !== undefined, { message: "code (or recoveryCode) is required", path: ["code"] })
  .refine(oneFactor, ONE_FACTOR);
export const tokenLoginMfaBody = z
  .object({ challengeToken: z.string({ error: "challengeToken must be a string" }).min(1, "challengeToken is required").max(128, "challengeToken is too long"), ...secondFactorFields })
  .refine((b) => b.code !== undefined || b.recoveryCode !== undefined, { message: "code (or recoveryCode) is required", path: ["code"] })
  .refine(oneFactor, ONE_FACTOR);
export const reauthBody = z.object({ password: currentPasswordSchema, ...secondFactorFields }).refine(oneFactor, ONE_FACTOR);
export const enableTotpBody = z.object({ code: totpCodeSchema });

/** What POST /login answers when the password was right and a second factor is next. */
export const mfaRequiredBody = z.object({
  mfaRequired: z.literal(true),
  methods: z.array(z.enum(["totp", "recovery_code"])).describe("what can finish the sign-in"),
});

export const refreshBody = z.object({
  refreshToken: z.string({ error: "Refresh token must be a string" }).min(1, "Refresh token is required").max(512, "Refresh token is too long"),
});
export const tokenPairSchema = z.object({
  accessToken: z.string().describe("JWT, 15 minutes by default"),
  refreshToken: z.string().describe("Opaque, single use: rotated on every refresh"),
  tokenType: z.literal("Bearer"),
  expiresIn: z.number().int().describe("Seconds until the access token expires"),
});

export const forgotPasswordBody = z.object({ email: emailSchema });
/** The token of an emailed one-time link, POSTed by its page's button. */
export const linkTokenBody = z.object({
  token: z.string({ error: "Token must be a string" }).min(1, "Token is required").max(512, "Token is too long"),
});
export const resendVerificationBody = z.object({ email: emailSchema });
export const resetPasswordBody = z.object({
  token: z.string({ error: "Token must be a string" }).min(1, "Token is required").max(512, "Token is too long"),
  newPassword: newPasswordSchema,
});

export const roleSchema = z.enum(["user", "admin"]);

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: roleSchema,
  createdAt: z.string().describe("ISO 8601"),
  updatedAt: z.string().describe("ISO 8601: the last change of email, password or role"),
  lastLoginAt: z.string().nullable().describe("ISO 8601, or null before the first login"),
  emailVerified: z.boolean().describe("whether the address was proven by a verification link (or vouched for by an operator)"),
});
export type User = z.infer<typeof userSchema>;

export const errorSchema = z.object({
  error: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  requestId: z.string().optional(),
});

export const changePasswordBody = z.object({ currentPassword: currentPasswordSchema, newPassword: newPasswordSchema });
export const deleteAccountBody = z.object({ password: currentPasswordSchema });
export const changeEmailBody = z.object({ newEmail: emailSchema, currentPassword: currentPasswordSchema });
export const setRoleBody = z.object({ role: roleSchema });
export const setEmailBody = z.object({ email: emailSchema });

/** GET /users query: page size 1..100 (default 20), an opaque cursor, an optional email prefix. */
export const listUsersQuery = z.object({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, "limit must be a whole number between 1 and 100")
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100, "limit must be a whole number between 1 and 100")
    .default(20),
  cursor: z.string().min(1, "cursor must not be empty").max(200, "cursor must be at most 200 characters").optional(),
  email: emailPrefixSchema.optional(),
});

const authenticatedAtSchema = z.string().describe("when the user last proved who they are in this session (log-in or re-authentication)");
const aalSchema = z.enum(["aal1", "aal2"]).describe("what was proven: aal1 a password, aal2 a password and a second factor");

/** The session a request arrived with, as GET /me shows it. */
const impersonatorSchema = z.string().nullable().describe("the admin signed in as the user (an impersonation), or null");
export const currentSessionSchema = z.object({ id: z.string(), authenticatedAt: authenticatedAtSchema, aal: aalSchema, impersonatorId: impersonatorSchema });
export type CurrentSession = z.infer<typeof currentSessionSchema>;

/** A session as its owner sees it: the public id only, never the token or its hash. */
export const sessionSchema = z.object({
  id: z.string(),
  current: z.boolean(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string().describe("when the session ends if not used again (idle or absolute expiry, whichever is first)"),
  authenticatedAt: authenticatedAtSchema,
  aal: aalSchema,
  impersonatorId: impersonatorSchema,
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
});
export type PublicSession = z.infer<typeof sessionSchema>;

/** A security event as the API shows it (README "Events"). */
export const eventSchema = z.object({
  id: z.string().describe("stable id, `evt_...`: also the webhook-id of its deliveries"),
  type: z.string(),
  at: z.string(),
  userId: z.string().nullable(),
  actorId: z.string().nullable().describe("the admin who acted on the account, if not its owner"),
  sessionId: z.string().nullable().describe("public id of the session concerned"),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).describe("a few non-secret facts (strings, numbers, booleans); see README \"Security events\""),
});
export type PublicEvent = z.infer<typeof eventSchema>;

const pageLimit = z
  .string()
  .regex(/^\d{1,3}$/, "limit must be a whole number between 1 and 100")
  .transform(Number)
  .refine((n) => n >= 1 && n <= 100, "limit must be a whole number between 1 and 100")
  .default(20);
const eventCursor = z.string().regex(/^[1-9]\d{0,17}$/, "cursor must be a nextCursor from a previous page").optional();
const instant = (name: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${name} must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z` })
    .transform((s) => Date.parse(s))
    .optional();

const UNTIL_FORMAT = "until must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z";

/** GET /admin (the console's user list): a search by email prefix and a page cursor, both optional; bad ones are ignored. */
export const adminConsoleQuery = z.object({
  email: emailPrefixSchema.optional().catch(undefined),
  cursor: z.string().min(1).max(200).optional().catch(undefined),
});

/** POST /users/invite: the address to invite and its role (default user). */
export const inviteBody = z.object({ email: emailSchema, role: roleSchema.default("user") });

/** POST /users/:id/disable: why (shown to admins, recorded in the event) and, optionally, until when. */
export const disableBody = z.object({
  reason: z.string({ error: "reason must be a string" }).trim().min(1, "reason is required").max(500, "reason must be at most 500 characters"),
  until: z
    .string({ error: "until must be a string" })
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, UNTIL_FORMAT)
    .refine((s) => !Number.isNaN(Date.parse(s)), UNTIL_FORMAT)
    .transform((s) => Date.parse(s))
    .optional(),
});

/** GET /account/activity query. */
export const activityQuery = z.object({ limit: pageLimit, cursor: eventCursor });

/** GET /admin/events query: every filter optional; `type` may list several, comma-separated. */
export const adminEventsQuery = z.object({
  limit: pageLimit,
  cursor: eventCursor,
  userId: z.string().min(1).max(200).optional(),
  type: z
    .string()
    .regex(/^[a-z_.]+(,[a-z_.]+)*$/, "type must be one or more event types, comma-separated")
    .transform((s) => s.split(","))
    .optional(),
  since: instant("since"),
  until: instant("until"),
});
