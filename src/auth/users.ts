import type { User } from "../schemas.js";
import type { UserRow } from "../store/store.js";

/** The user as every response shows it: never a password hash, never a token. */
export function toPublicUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
