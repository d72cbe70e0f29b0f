// Revoking bearer credentials while the client keeps refreshing, over real
// HTTP on the engine TEST_ENGINE names (npm test runs it on SQLite,
// PostgreSQL and PostgreSQL+Redis). Every revocation must answer 200, and
// afterwards no token of the family (refresh or access) may work: not the
// one the client holds, not one minted by a refresh that raced the revocation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PASSWORD = "password123";
const NEW_PASSWORD = "another-password-456";
const ROUNDS = 30;

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.destroy());

const me = (access: string) => request(srv.url, "GET", "/token/me", { headers: { authorization: `Bearer ${access}` } });
const refresh = (refreshToken: string) => request(srv.url, "POST", "/token/refresh", { body: { refreshToken } });

async function signedIn() {
  const email = uniqueEmail("race");
  expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  const login = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  const tokens = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
  expect(tokens.status).toBe(200);
  return {
    cookie: cookiePair(login.setCookie),
    accessToken: tokens.body.accessToken as string,
    refreshToken: tokens.body.refreshToken as string,
  };
}

/**
 * A client refreshing as fast as it can until `stop()` is called or it is
 * refused; `done` resolves with every access token it received and the
 * last refresh token it holds.
 */
function refreshLoop(first: { accessToken: string; refreshToken: string }) {
  let stopped = false;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const held = { refreshToken: first.refreshToken, accessTokens: [first.accessToken] };
  const done = (async () => {
    for (let i = 0; i < 10_000 && !stopped; i++) {
      const res = await refresh(held.refreshToken);
      if (i === 1) started();
      if (res.status !== 200) break;
      held.refreshToken = res.body.refreshToken;
      held.accessTokens.push(res.body.accessToken);
    }
    started();
    return held;
  })();
  return { running, done, stop: () => void (stopped = true) };
}

type Revocation = (s: Awaited<ReturnType<typeof signedIn>>) => Promise<{ status: number; text: string }>;

const revocations: [string, Revocation][] = [
  ["POST /logout-all", (s) => request(srv.url, "POST", "/logout-all", { cookie: s.cookie })],
  ["POST /password", (s) => request(srv.url, "POST", "/password", { cookie: s.cookie, body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })],
  ["POST /sessions/revoke-others", (s) => request(srv.url, "POST", "/sessions/revoke-others", { cookie: s.cookie })],
  // Any token of the family names it, also the first, long spent one.
  ["POST /token/logout", (s) => request(srv.url, "POST", "/token/logout", { body: { refreshToken: s.refreshToken } })],
];

describe("revoking a family while its client refreshes in a loop", () => {
  it.each(revocations)("%s answers 200 every time and leaves no token of the family working", async (_name, revoke) => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const s = await signedIn();
      const loop = refreshLoop(s);
      await loop.running; // a refresh is in flight or about to be
      const answer = await revoke(s);
      if (answer.status !== 200) failures.push(`round ${round}: revocation answered ${answer.status} ${answer.text}`);
      loop.stop();
      const held = await loop.done;
      // The refresh token the client holds now, and every access token it was ever given, are dead.
      const last = await refresh(held.refreshToken);
      if (last.status !== 401) failures.push(`round ${round}: the family's refresh token still works (${last.status})`);
      if (last.status === 200) held.accessTokens.push(last.body.accessToken);
      for (const access of held.accessTokens) {
        const res = await me(access);
        if (res.status !== 401) failures.push(`round ${round}: an access token of the family still works (${res.status})`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe("access tokens end with their family", () => {
  it("after POST /token/logout, the family's access tokens answer 401; another login's keep working", async () => {
    const s = await signedIn();
    const other = await signedIn();
    const rotated = await refresh(s.refreshToken);
    expect(rotated.status).toBe(200);
    expect((await me(rotated.body.accessToken)).status).toBe(200);
    const out = await request(srv.url, "POST", "/token/logout", { body: { refreshToken: rotated.body.refreshToken } });
    expect(out.status).toBe(200);
    expect((await me(s.accessToken)).status).toBe(401);
    expect((await me(rotated.body.accessToken)).status).toBe(401);
    expect((await me(other.accessToken)).status).toBe(200);
  });

  it("after refresh-token reuse is detected, the family's access tokens answer 401", async () => {
    const s = await signedIn();
    const rotated = await refresh(s.refreshToken);
    expect(rotated.status).toBe(200);
    expect((await refresh(s.refreshToken)).status).toBe(401); // the spent token again: the family is revoked
    expect((await me(s.accessToken)).status).toBe(401);
    expect((await me(rotated.body.accessToken)).status).toBe(401); // the thief's (or the victim's) newest token too
  });
});
