// What ends when: one table, one row per account-lifecycle operation
// (src/auth/accounts.ts), checked over real HTTP and in the store's rows, on
// the engine TEST_ENGINE names (npm test runs it on every engine). Each row
// starts from a user with two cookie sessions ("current", the one an operation
// may keep, and "other"), a bearer login (refresh family + access token) and an
// outstanding reset link, next to a bystander with a session and a bearer login.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Accounts } from "../src/auth/accounts.js";
import { generateToken, hashToken } from "../src/auth/tokens.js";
import type { SessionRow, UserRow } from "../src/store/store.js";
import { cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PASSWORD = "password123";
const NEW_PASSWORD = "a brand new passphrase";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.destroy());

interface Subject {
  user: UserRow;
  current: SessionRow;
}

/** What the operation did to the session it was told to keep: its new token (setPassword rotates it), or nothing. */
type Outcome = { keptToken?: string | null } | void;

interface Row {
  operation: string;
  run(accounts: Accounts, subject: Subject): Promise<Outcome>;
  /** Which of the subject's credentials still work afterwards; `bystander`: the other user's. */
  lives: { current: boolean; other: boolean; bearer: boolean; reset: boolean; bystander: boolean };
}

const ALL = { current: true, other: true, bearer: true, reset: true, bystander: true };
const NONE_OF_THEIRS = { current: false, other: false, bearer: false, reset: false, bystander: true };

const TABLE: Row[] = [
  { operation: "create (another account)", run: (a) => a.create({ email: uniqueEmail("new"), password: PASSWORD, role: "user" }).then(() => {}), lives: ALL },
  {
    operation: "setPassword keeping this session (POST /password)",
    run: async (a, s) => {
      const changed = await a.setPassword(s.user, NEW_PASSWORD, { keep: s.current });
      if ("refused" in changed) throw new Error(changed.reason);
      return { keptToken: changed.token };
    },
    lives: { ...NONE_OF_THEIRS, current: true },
  },
  { operation: "setPassword keeping nothing (password reset)", run: (a, s) => a.setPassword(s.user, NEW_PASSWORD).then(() => {}), lives: NONE_OF_THEIRS },
  { operation: "changeRole to another role", run: (a, s) => a.changeRole(s.user.id, "admin").then(() => {}), lives: NONE_OF_THEIRS },
  { operation: "changeRole to the same role", run: (a, s) => a.changeRole(s.user.id, "user").then(() => {}), lives: ALL },
  { operation: "setEmail to another address (admin, CLI)", run: (a, s) => a.setEmail(s.user.id, uniqueEmail("moved")).then(() => {}), lives: NONE_OF_THEIRS },
  { operation: "setEmail to the same address", run: (a, s) => a.setEmail(s.user.id, s.user.email).then(() => {}), lives: ALL },
  { operation: "remove", run: (a, s) => a.remove(s.user.id).then(() => {}), lives: NONE_OF_THEIRS },
  { operation: "endSessions keeping this one (revoke-others)", run: (a, s) => a.endSessions(s.user.id, { keep: s.current }).then(() => {}), lives: { ...NONE_OF_THEIRS, current: true } },
  { operation: "endSessions (logout-all, admin revoke)", run: (a, s) => a.endSessions(s.user.id).then(() => {}), lives: NONE_OF_THEIRS },
  { operation: "endEverySession", run: (a) => a.endEverySession().then(() => {}), lives: { ...NONE_OF_THEIRS, bystander: false } },
  { operation: "prune (nothing has expired)", run: (a) => a.prune().then(() => {}), lives: ALL },
];

async function signup(prefix: string) {
  const email = uniqueEmail(prefix);
  const res = await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
  expect(res.status).toBe(201);
  return email;
}

const cookieLogin = async (email: string) =>
  cookiePair((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).setCookie);

async function bearerLogin(email: string) {
  const res = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
  expect(res.status).toBe(200);
  return res.body as { accessToken: string; refreshToken: string };
}

const meWorks = async (cookie: string) => (await request(srv.url, "GET", "/me", { cookie })).status === 200;
const bearerWorks = async (accessToken: string) =>
  (await request(srv.url, "GET", "/token/me", { headers: { authorization: `Bearer ${accessToken}` } })).status === 200;

describe("the account lifecycle: what each operation ends", () => {
  it.each(TABLE)("$operation", async (row) => {
    const { store, accounts } = srv.latchkey;
    const tokens = store.tokens;
    const email = await signup("subject");
    const [current, other] = [await cookieLogin(email), await cookieLogin(email)];
    const bearer = await bearerLogin(email);
    const user = (await store.findUserByEmail(email))!;
    const resetToken = generateToken();
    await tokens.createResetToken({ tokenHash: hashToken(resetToken), userId: user.id, createdAt: srv.clock(), expiresAt: srv.clock() + 3_600_000 });
    const bystanderEmail = await signup("bystander");
    const [bystanderCookie, bystanderBearer] = [await cookieLogin(bystanderEmail), await bearerLogin(bystanderEmail)];
    const currentRow = (await store.findSession(hashToken(current.split("=")[1]!)))!.session;

    const outcome = await row.run(accounts, { user, current: currentRow });

    const keptToken = outcome && "keptToken" in outcome ? outcome.keptToken : undefined;
    const currentCookie = keptToken ? `${current.split("=")[0]}=${keptToken}` : current;
    if (keptToken) expect(await meWorks(current)).toBe(false); // rotated: the old token is gone
    // The refresh family's row (a deleted user's must be gone on every engine), and what the HTTP route says.
    const familyLive = await tokens.isRefreshFamilyLive(decodeJwt(bearer.accessToken).sid as string, user.id, srv.clock());
    const lives = {
      current: await meWorks(currentCookie),
      other: await meWorks(other),
      bearer: familyLive,
      reset: (await tokens.consumeResetToken(hashToken(resetToken), srv.clock())) !== null,
      bystander: (await meWorks(bystanderCookie)) && (await bearerWorks(bystanderBearer.accessToken)),
    };
    expect(lives).toEqual(row.lives);
    expect(await bearerWorks(bearer.accessToken)).toBe(row.lives.bearer);
  });
});
