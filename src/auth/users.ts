import { randomUUID } from "node:crypto";
import type { User } from "../schemas.js";
import type { Role, Store, UserRow } from "../store/store.js";
import type { PasswordHasher } from "./passwords.js";

const iso = (ms: number) => new Date(ms).toISOString();

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
  };
}

/** Creates an account outside the HTTP signup (admin bootstrap, CLI). Throws EmailTakenError for a taken email. */
export async function createAccount(
  store: Store,
  passwords: Pick<PasswordHasher, "hash">,
  input: { email: string; password: string; role: Role },
  now: number,
): Promise<UserRow> {
  const passwordHash = await passwords.hash(input.password);
  return store.createUser({ id: randomUUID(), email: input.email, passwordHash, role: input.role, createdAt: now });
}
