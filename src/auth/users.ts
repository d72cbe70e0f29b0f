import type { User } from "../schemas.js";
import type { UserRow } from "../store/store.js";

/** A stored time (ms since the epoch) as every response shows it. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** Public forms of frozen rows (the session cache's), computed once per row. */
const publicForms = new WeakMap<UserRow, User>();

/** The user as every response shows it: never a password hash, never a token. */
export function toPublicUser(row: UserRow): User {
  if (!Object.isFrozen(row)) return publicForm(row);
  let user = publicForms.get(row);
  if (!user) publicForms.set(row, (user = Object.freeze(publicForm(row))));
  return user;
}

function publicForm(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    lastLoginAt: row.lastLoginAt === null ? null : iso(row.lastLoginAt),
    emailVerified: row.emailVerifiedAt !== null,
  };
}
