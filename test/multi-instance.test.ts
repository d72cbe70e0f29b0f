// Two real server processes behind no load balancer at all: the test is the
// load balancer. They share one PostgreSQL schema (and, in the second pair,
// one Redis prefix), so a session made on one is the session on the other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { spawnServer, type ServerProcess } from "./helpers/process.js";
import { FAST_ARGON2, engineEnv, type TestEngine } from "./helpers/server.js";
import { servicesAvailable } from "./helpers/services.js";

const pairs: { engine: TestEngine; services: ("postgres" | "redis")[] }[] = [
  { engine: "postgres", services: ["postgres"] },
  { engine: "postgres-redis", services: ["postgres", "redis"] },
];

for (const { engine, services } of pairs) {
  const available = await servicesAvailable(services, `two instances on ${engine}`);

  describe.skipIf(!available)(`two instances sharing ${engine}`, () => {
    let a: ServerProcess;
    let b: ServerProcess;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const shared = engineEnv(engine);
      cleanup = shared.cleanup;
      // Both start at once on an empty schema: the migration advisory lock makes them take turns.
      // The default per-email login limit (5 a minute), so the pair must share its counters to enforce it.
      const env = { ...FAST_ARGON2, ...shared.env, LOGIN_EMAIL_LIMIT: "5" };
      [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    });
    afterAll(async () => {
      for (const p of [a, b]) {
        if (!p) continue;
        p.child.kill("SIGTERM");
        await p.exited;
      }
      await cleanup?.();
    });

    it("both started and report ready on the shared store", async () => {
      for (const p of [a, b]) {
        expect(p.logs.join("\n")).toContain(`"store":"${engine === "postgres" ? "postgres" : "postgres+redis"}"`);
        expect((await request(p.url, "GET", "/readyz")).status).toBe(200);
      }
    });

    it("signs up on A, logs in on B, and the session works on A", async () => {
      const email = uniqueEmail();
      const signup = await request(a.url, "POST", "/signup", { body: { email, password: "password123" } });
      expect(signup.status).toBe(201);
      const onB = client(b.url);
      expect((await onB.post("/login", { email, password: "password123" })).status).toBe(200);

      const meOnA = await request(a.url, "GET", "/me", { cookie: onB.cookie });
      expect(meOnA.status).toBe(200);
      expect(meOnA.body.user).toEqual({ ...signup.body.user, lastLoginAt: expect.any(String) });
    });

    it("logs out on A and the session is dead on B at once", async () => {
      const email = uniqueEmail();
      await request(a.url, "POST", "/signup", { body: { email, password: "password123" } });
      const onA = client(a.url);
      await onA.post("/login", { email, password: "password123" });
      const cookie = onA.cookie!;
      expect((await request(b.url, "GET", "/me", { cookie })).status).toBe(200);

      expect((await onA.post("/logout")).status).toBe(200);
      const meOnB = await request(b.url, "GET", "/me", { cookie });
      expect(meOnB.status).toBe(401);
      expect(meOnB.body).toEqual({ error: "Unauthorized" });
    });

    it("lets one of two simultaneous sign-ups with one email win, across instances", async () => {
      const email = uniqueEmail();
      const [ra, rb] = await Promise.all([
        request(a.url, "POST", "/signup", { body: { email, password: "password123" } }),
        request(b.url, "POST", "/signup", { body: { email, password: "password456" } }),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    });

    it("accepts on B a bearer token issued on A (one signing key for all), and catches refresh reuse across them", async () => {
      const email = uniqueEmail();
      await request(a.url, "POST", "/signup", { body: { email, password: "password123" } });
      const login = await request(a.url, "POST", "/token/login", { body: { email, password: "password123" } });
      expect(login.status).toBe(200);
      const bearer = (token: string, url: string) => request(url, "GET", "/token/me", { headers: { authorization: `Bearer ${token}` } });
      expect((await bearer(login.body.accessToken, b.url)).status).toBe(200);

      const rotated = await request(b.url, "POST", "/token/refresh", { body: { refreshToken: login.body.refreshToken } });
      expect(rotated.status).toBe(200);
      expect((await bearer(rotated.body.accessToken, a.url)).status).toBe(200);
      // The old refresh token replayed on A: reuse, so the whole family (B's new token too) is revoked.
      expect((await request(a.url, "POST", "/token/refresh", { body: { refreshToken: login.body.refreshToken } })).status).toBe(401);
      expect((await request(b.url, "POST", "/token/refresh", { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);
    });

    it("counts wrong passwords spread over A and B toward one per-email limit", async () => {
      const email = uniqueEmail();
      await request(a.url, "POST", "/signup", { body: { email, password: "password123" } });
      const login = (url: string, password: string) => request(url, "POST", "/login", { body: { email, password } });
      for (const url of [a.url, b.url, a.url, b.url, a.url]) expect((await login(url, "wrong-password")).status).toBe(401);
      for (const url of [b.url, a.url]) {
        const limited = await login(url, "password123"); // even the right password waits out the window
        expect(limited.status).toBe(429);
        expect(limited.body).toEqual({ error: "Too many attempts, try again later" });
        expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    });

    it("enforces on B a password changed on A: old password refused, other sessions gone", async () => {
      const email = uniqueEmail();
      await request(a.url, "POST", "/signup", { body: { email, password: "password123" } });
      const onA = client(a.url);
      const onB = client(b.url);
      await onA.post("/login", { email, password: "password123" });
      await onB.post("/login", { email, password: "password123" });
      const changed = await onA.post("/password", { currentPassword: "password123", newPassword: "a brand new passphrase" });
      expect(changed.status).toBe(200);
      expect((await onB.get("/me")).status).toBe(401);
      expect((await request(b.url, "GET", "/me", { cookie: onA.cookie })).status).toBe(200); // A's rotated session
      expect((await request(b.url, "POST", "/login", { body: { email, password: "password123" } })).status).toBe(401);
      expect((await request(b.url, "POST", "/login", { body: { email, password: "a brand new passphrase" } })).status).toBe(200);
    });
  });
}
