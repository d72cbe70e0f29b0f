// Shutdown: SIGTERM while requests are in flight. They complete, new
// connections are refused at once, the process exits 0 within SHUTDOWN_GRACE,
// and every acknowledged write is there after a restart. Requests are held in
// flight by real work: logins with the default (slow) Argon2 parameters, one
// hash at a time.
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { chooseEngines } from "./engines.js";
import {
  call,
  randomPassword,
  sessionPair,
  sleep,
  startServerProcess,
  stopServerProcess,
  summary,
  uniqueEmail,
  type Answer,
  type ServerChild,
} from "./harness.js";

const SLOW_ARGON2 = { ARGON2_MEMORY_KIB: "19456", ARGON2_TIME_COST: "2", ARGON2_CONCURRENCY: "1" };

/** Resolves "refused" when nothing listens on the port, "accepted" when a connection opens. */
function tryConnect(url: string): Promise<"refused" | "accepted"> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNREFUSED" ? resolve("refused") : reject(err)));
  });
}

/**
 * A POST over node:http on a connection of its own, sent at once: `agent: false`
 * opens a fresh connection; a keep-alive agent keeps it open after the answer,
 * for the next request, like a reverse proxy.
 */
function postOwnConnection(agent: Agent | false, base: string, path: string, body: Account, sent: Promise<void>[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        const setCookie = res.headers["set-cookie"]?.[0] ?? null;
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, setCookie });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    // Resolves once the whole request is handed to the OS (or fails): only then is it truly in flight.
    sent.push(new Promise((done) => (req.once("finish", done), req.once("error", done))));
    req.end(JSON.stringify(body));
  });
}

function healthOverNewConnection(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.end();
  });
}

const settle = <T>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: Error) => ({ ok: false as const, error }));
const running = (s: ServerChild) => s.child.exitCode === null && s.child.signalCode === null;

interface Account {
  email: string;
  password: string;
}

async function signupAll(base: string, n: number): Promise<Account[]> {
  const accounts = Array.from({ length: n }, () => ({ email: uniqueEmail("stop"), password: randomPassword() }));
  for (const a of accounts) expect((await call(base, "POST", "/signup", { body: a })).status).toBe(201);
  return accounts;
}

/** After a restart: every acknowledged login's session is live, every acknowledged signup can log in. */
async function checkDurable(base: string, sessions: { cookie: string; email: string }[], signups: Account[]): Promise<void> {
  for (const s of sessions) {
    const me = await call(base, "GET", "/me", { cookie: s.cookie });
    expect(me.status, "an acknowledged login's session was lost").toBe(200);
    expect(me.body.user.email).toBe(s.email);
  }
  for (const a of signups) expect((await call(base, "POST", "/login", { body: a })).status, "an acknowledged signup was lost").toBe(200);
}

const engines = await chooseEngines();

for (const engine of engines) {
  describe.skipIf(engine.skip !== undefined)(`graceful shutdown on ${engine.name}`, () => {
    it("SIGTERM under load: in-flight requests complete, new connections are refused, exit 0 within the grace period", async () => {
      const target = await engine.prepare();
      let server: ServerChild | undefined;
      try {
        const GRACE_MS = 10_000;
        server = await startServerProcess({ ...target.env, ...SLOW_ARGON2, SHUTDOWN_GRACE: `${GRACE_MS / 1000}s` });
        const base = server.url;
        const accounts = await signupAll(base, 4);
        // Each held request on its own connection (fetch opens one per concurrent request).
        // Each held request on a connection of its own, a quarter of them kept alive after the answer.
        const agent = new Agent({ keepAlive: true });
        const sent: Promise<void>[] = [];
        let lastAnswerAt = 0;
        const held = Array.from({ length: 32 }, (_, i) => accounts[i % accounts.length]!).map((a, i) =>
          settle(
            postOwnConnection(i % 4 === 0 ? agent : false, base, "/login", a, sent).then((res) => {
              lastAnswerAt = Date.now();
              return { res, email: a.email };
            }),
          ),
        );
        const newcomers = Array.from({ length: 4 }, () => ({ email: uniqueEmail("stop-new"), password: randomPassword() }));
        let sentAt = 0;
        const cutAt: string[] = [];
        const heldSignups = newcomers.map((a, i) =>
          settle(
            postOwnConnection(false, base, "/signup", a, sent).catch((err) => {
              cutAt.push(`signup ${i} cut ${Date.now() - sentAt} ms after SIGTERM`);
              throw err;
            }),
          ),
        );
        // Make sure the held requests have reached the server (not merely left here): a request
        // still in the network when the server stops is on an idle connection, and closing those
        // is the very point of stopping. A later request answered means earlier ones were read.
        // (Waiting on a timer alone is not enough on a loaded machine: the timer can fire before this
        // process has written the requests.) Every request written, then one more answered after them.
        // The later request goes over a new connection too: the server accepts connections in order,
        // so by the time it answers this one it has accepted (and read) the held ones.
        await Promise.all(sent);
        expect(await healthOverNewConnection(base)).toBe(200);
        sentAt = Date.now();
        server.kill("SIGTERM");

        // The stop handler has run (it logs before closing the listener, synchronously): probe then.
        const stopping = server;
        while (!stopping.logs.some((l) => l.includes('"event":"server.stopping"')) && running(stopping)) await sleep(5);
        // The listening socket is closed at the end of that event-loop turn; until then the kernel may
        // still complete a handshake. A moment later the port must refuse.
        await sleep(100);
        const stillDraining = running(server);
        const probe = await tryConnect(base);
        const logins = await Promise.all(held);
        const signups = await Promise.all(heldSignups);
        const { code, signal } = await server.exited;
        const exitedAt = Date.now();
        const exitMs = exitedAt - sentAt;

        expect(stillDraining, "the server finished before the probe: hold more work in flight").toBe(true);
        expect(probe, "a new connection was accepted during shutdown").toBe("refused");
        for (const l of logins) if (l.ok) expect(l.value.res.status).toBe(200);
        for (const s of signups) if (s.ok) expect(s.value.status).toBe(201);
        const cut = [...logins, ...signups].filter((r) => !r.ok) as { ok: false; error: Error }[];
        const inFlight = logins.length + signups.length;
        expect(cut.map((c) => `${c.error.message}`).concat(cutAt), "in-flight requests were cut").toEqual([]);
        expect({ code, signal }).toEqual({ code: 0, signal: null });
        expect(exitMs).toBeLessThan(GRACE_MS);
        // Once the last in-flight answer is out, kept-alive connections must not hold the exit back
        // (an idle one would otherwise stay until the 5 s keep-alive timeout, or the grace period).
        const exitAfterLastAnswerMs = exitedAt - lastAnswerAt;
        expect(exitAfterLastAnswerMs, "the server waited for idle keep-alive connections").toBeLessThan(2_500);
        agent.destroy();
        expect(server.logs.some((l) => l.includes('"event":"server.stopped"'))).toBe(true);
        expect(server.logs.some((l) => l.includes('"event":"server.grace_expired"')), "the grace period ran out").toBe(false);

        const sessions = logins.flatMap((l) => (l.ok ? [{ cookie: sessionPair(l.value.res.setCookie)!, email: l.value.email }] : []));
        server = await startServerProcess(target.env);
        const acknowledgedSignups = newcomers.filter((_, i) => signups[i]!.ok);
        await checkDurable(server.url, sessions, acknowledgedSignups);
        summary(`shutdown/${engine.name}`, {
          in_flight_completed: `${inFlight - cut.length}/${inFlight}`,
          new_connection: probe,
          exit_code: code ?? `signal ${signal}`,
          exit_ms_after_sigterm: exitMs,
          exit_ms_after_last_answer: exitAfterLastAnswerMs,
          grace_ms: GRACE_MS,
          acknowledged_writes_checked: sessions.length + acknowledgedSignups.length,
        });
      } finally {
        await stopServerProcess(server);
        await target.cleanup();
      }
    });

    it("work that outlasts the grace period is cut, the process still exits 0 on time, and what was acknowledged stays", async () => {
      const target = await engine.prepare();
      let server: ServerChild | undefined;
      try {
        const GRACE_MS = 1_000;
        server = await startServerProcess({ ...target.env, ...SLOW_ARGON2, SHUTDOWN_GRACE: `${GRACE_MS / 1000}s` });
        const base = server.url;
        const [account] = await signupAll(base, 1);
        // One at a time, 400 hashes take several seconds: far past the 1 s grace period even on a fast machine.
        const held = Array.from({ length: 400 }, () => settle(call(base, "POST", "/login", { body: account })));
        // Long enough for the requests to reach the server on a busy machine, or the ones still
        // connecting are merely refused and the grace period never runs out.
        await sleep(600);
        const sentAt = Date.now();
        server.kill("SIGTERM");
        const { code, signal } = await server.exited;
        const exitMs = Date.now() - sentAt;
        const results = await Promise.all(held);
        const answered = results.flatMap((r) => (r.ok ? [r.value as Answer] : []));

        expect({ code, signal }).toEqual({ code: 0, signal: null });
        // The grace period plus closing the store and exiting; a hang would take the hashing's many seconds.
        expect(exitMs).toBeLessThan(GRACE_MS + 3_000);
        expect(answered.length, "every held request was answered: nothing outlasted the grace period").toBeLessThan(held.length);
        for (const a of answered) expect(a.status).toBe(200);
        expect(server.logs.some((l) => l.includes('"event":"server.grace_expired"'))).toBe(true);

        const sessions = answered.map((a) => ({ cookie: sessionPair(a.setCookie)!, email: account!.email }));
        server = await startServerProcess(target.env);
        await checkDurable(server.url, sessions, [account!]);
        summary(`shutdown-grace/${engine.name}`, {
          held: held.length,
          answered_before_cut: answered.length,
          exit_code: code ?? `signal ${signal}`,
          exit_ms_after_sigterm: exitMs,
          grace_ms: GRACE_MS,
        });
      } finally {
        await stopServerProcess(server);
        await target.cleanup();
      }
    });
  });
}
