// The server as a process: start-up, the database file, config errors, and a graceful stop.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { client, uniqueEmail } from "./helpers/http.js";
import { SERVER_ENTRY, spawnServer } from "./helpers/process.js";
import { FAST_ARGON2, tempDir } from "./helpers/server.js";

describe("the server process", () => {
  it("creates its SQLite file on first start, survives a restart, and stops cleanly on SIGTERM", async () => {
    const dir = tempDir();
    try {
      const env = { ...FAST_ARGON2, DATABASE_URL: "sqlite:./nested/dir/latchkey.db" };
      const first = await spawnServer(env, dir.path);
      expect(existsSync(`${dir.path}/nested/dir/latchkey.db`)).toBe(true);
      const c = client(first.url);
      const email = uniqueEmail();
      await c.post("/signup", { email, password: "password123" });
      await c.post("/login", { email, password: "password123" });
      // A login in flight when SIGTERM arrives still completes.
      const inflight = fetch(`${first.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: "password123" }),
      });
      await new Promise((r) => setTimeout(r, 5));
      first.child.kill("SIGTERM");
      expect((await inflight).status).toBe(200);
      expect(await first.exited).toBe(0);
      expect(first.logs.some((l) => l.includes('"event":"server.stopped"'))).toBe(true);

      const second = await spawnServer(env, dir.path);
      const c2 = client(second.url);
      c2.cookie = c.cookie;
      expect((await c2.get("/me")).body.user.email).toBe(email);
      second.child.kill("SIGINT");
      expect(await second.exited).toBe(0);
    } finally {
      dir.remove();
    }
  });

  it("refuses to start on bad configuration with a clear message and exit code 2", () => {
    const res = spawnSync(process.execPath, [SERVER_ENTRY], {
      env: { ...process.env, PORT: "abc" },
      encoding: "utf8",
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('latchkey: PORT must be a whole number between 0 and 65535, got "abc"');
  });
});
