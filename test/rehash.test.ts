// A stored hash made with older parameters is upgraded on the next successful login.
import { describe, expect, it } from "vitest";
import { request, uniqueEmail } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

describe("re-hash on login", () => {
  it("upgrades the stored hash when the configured Argon2 parameters changed, and only on success", async () => {
    const email = uniqueEmail();
    let srv = await startTestServer({ env: { ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1" } });
    try {
      await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } });
      const before = (await srv.latchkey.store.findUserByEmail(email))!.passwordHash;
      expect(before).toContain("m=1024,t=1,p=1");

      await srv.close();
      srv = await startTestServer({ dbPath: srv.dbPath, clock: srv.clock, env: { ARGON2_MEMORY_KIB: "2048", ARGON2_TIME_COST: "2" } });
      expect((await request(srv.url, "POST", "/login", { body: { email, password: "wrong-password" } })).status).toBe(401);
      expect((await srv.latchkey.store.findUserByEmail(email))!.passwordHash).toBe(before);

      expect((await request(srv.url, "POST", "/login", { body: { email, password: "password123" } })).status).toBe(200);
      const after = (await srv.latchkey.store.findUserByEmail(email))!.passwordHash;
      expect(after).toContain("m=2048,t=2,p=1");
      expect((await request(srv.url, "POST", "/login", { body: { email, password: "password123" } })).status).toBe(200);
    } finally {
      await srv.destroy();
    }
  });
});
