// Request and response shapes, declared once with zod: routes validate with
// them and their TypeScript types come from them.
import { z } from "zod";

const codePoints = (s: string) => [...s].length;

// Email addresses are identities, not syntax puzzles: the only proof that an
// address works is a message delivered to it (password reset). So any
// printable text is accepted -- the seed lesson's curl session signs up as
// "[email protected]", verbatim -- and only what cannot be an address is refused.
// Identity is the trimmed, lower-cased form.
const CONTROL_CHARACTERS = /[\p{Cc}\p{Cs}\u2028\u2029]/u;

export const emailSchema = z
  .string({ error: "Email must be a string" })
  .trim()
  .toLowerCase()
  .min(1, "Email is required")
  .max(320, "Email must be at most 320 characters")
  .refine((e) => !CONTROL_CHARACTERS.test(e), "Email must not contain control characters");

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
});
export type User = z.infer<typeof userSchema>;

export const errorSchema = z.object({
  error: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  requestId: z.string().optional(),
});
