// Hostile input, property-based: thousands of generated requests at every
// route -- random methods, wrong JSON types, deep nesting, huge strings,
// invalid UTF-8, NUL and control characters, duplicated and oversized headers,
// garbage cookies, wrong content types. Invariants: never a 5xx, every answer
// is JSON in the documented shape (or the route's success), the server stays
// up, and a refused request creates no user and no session.
//
// Fixed seed; FUZZ_RUNS (requests, default 10,000) and FUZZ_SEED override.
import { connect } from "node:net";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declaredRoutes } from "../src/app.js";
import { request } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const REQUESTS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
/** Requests sent at once; the store counts are compared around each batch. */
const BATCH = 10;

/** Paths no route has, or that only look like one. */
const HOSTILE_PATHS = ["/nope", "/signup/", "/login?x=1", "/%ff%fe", "/me/../signup", "/users?limit=-1&cursor=%ff", "/sessions/../users"];
/** Every route the app serves (from the app itself: nothing to keep in step), a parameter made hostile, plus HOSTILE_PATHS. */
const fuzzPaths = () => [
  ...new Set(srv.latchkey.app.routes.filter((r) => r.method !== "ALL").map((r) => r.path.replace(/:\w+/, "x%00y"))),
  ...HOSTILE_PATHS,
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND", "FOO"];

const KNOWN = { email: "fuzz-known@example.com", password: "known user's password" };

let srv: TestServer;
let db: Database.Database;
beforeAll(async () => {
  srv = await startTestServer({ env: { PASSWORD_REJECT_COMMON: "true", BODY_LIMIT_BYTES: "16384" } });
  expect((await request(srv.url, "POST", "/signup", { body: KNOWN })).status).toBe(201);
  db = new Database(srv.dbPath, { readonly: true, fileMustExist: true });
});
afterAll(async () => {
  db?.close();
  await srv?.destroy();
});

const counts = () => ({
  users: (db.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n,
  sessions: (db.prepare("SELECT count(*) AS n FROM sessions").get() as { n: number }).n,
});

// ---- generators ---------------------------------------------------------

const CONTROL = [..."\u0000\u0001\u0007\b\t\n\u000b\f\r\u001b\u007f\u0085\u2028\u2029\ud800\udfff"];
const controlText = fc.string({ unit: fc.constantFrom(...CONTROL, "a", "@", ".", " ", "é", "😀"), maxLength: 40 });

const emailArb = fc.oneof(
  fc.constant(KNOWN.email),
  fc.constant(KNOWN.email.toUpperCase()),
  fc.emailAddress(),
  controlText,
  fc.string({ maxLength: 400 }),
  fc.constant("x".repeat(5000) + "@example.com"),
);
const passwordArb = fc.oneof(
  fc.constant(KNOWN.password),
  fc.constant("password123"),
  fc.string({ minLength: 8, maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  controlText,
  fc.constant("p".repeat(1025)),
);
/** A value of the wrong type, anywhere. */
const wrongType = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, true, 0, -1, 1e308, [], {}));

function deepNesting(depth: number, open: string, close: string, inner = "1"): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

type Body = { kind: "none" } | { kind: "text"; text: string } | { kind: "bytes"; bytes: Uint8Array };
const text = (t: string): Body => ({ kind: "text", text: t });

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ email: emailArb, password: passwordArb }).map((b) => text(JSON.stringify(b))) },
  { weight: 3, arbitrary: fc.record({ email: fc.oneof(emailArb, wrongType), password: fc.oneof(passwordArb, wrongType) }, { requiredKeys: [] }).map((b) => text(JSON.stringify(b))) },
  { weight: 2, arbitrary: wrongType.map((v) => text(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 6000 }).map((d) => text(`{"email":${deepNesting(d, "[", "]")},"password":"x"}`)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }).map((d) => text(deepNesting(d, '{"a":', "}"))) },
  { weight: 1, arbitrary: fc.integer({ min: 16_000, max: 40_000 }).map((n) => text(JSON.stringify({ email: "a@b.c", password: "p".repeat(n) }))) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: "bytes", bytes }) as Body) },
  {
    weight: 2,
    // Invalid UTF-8 inside otherwise valid JSON.
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((junk) => ({
      kind: "bytes",
      bytes: Buffer.concat([Buffer.from('{"email":"'), Buffer.from(junk.map((b) => b | 0x80)), Buffer.from('@x.y","password":"pass\xff\xfeword"}', "latin1")]),
    }) as Body),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map(text) },
  { weight: 1, arbitrary: fc.constant<Body>({ kind: "none" }) },
);

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/vnd.api+json",
  "application/jsonx",
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
];
/** Header-safe text for fetch (it refuses NUL, CR, LF and chars above U+00FF); raw requests go further. */
const headerText = (max: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x7e : c)), maxLength: max }).map((s) => s.trim());
const cookieArb = fc.oneof(
  headerText(200),
  fc.base64String({ maxLength: 60 }).map((t) => `session=${t}`),
  fc.string({ unit: fc.constantFrom(..."ABCabc012-_"), minLength: 43, maxLength: 43 }).map((t) => `session=${t}; __Host-session=${t}`),
  fc.constant("session=; session=x; session"),
  fc.constant("session=" + "A".repeat(4000)),
);
/** `arb` in `percent` % of cases, else absent. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number) =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(undefined) }, { weight: percent, arbitrary: arb });

const headersArb = fc
  .record({
    "content-type": sometimes(
      fc.oneof({ weight: 6, arbitrary: fc.constant("application/json") }, fc.constantFrom(...CONTENT_TYPES), headerText(60)),
      90,
    ),
    cookie: sometimes(cookieArb, 30),
    "sec-fetch-site": sometimes(fc.constantFrom("none", "same-origin", "same-site", "cross-site", "garbage"), 15),
    origin: sometimes(fc.oneof(fc.constantFrom("null", "http://evil.example", "https://127.0.0.1"), headerText(40)), 10),
    "x-forwarded-for": sometimes(headerText(60), 10),
    forwarded: sometimes(headerText(60), 5),
    "user-agent": sometimes(headerText(300), 20),
    "x-huge": sometimes(fc.integer({ min: 8_000, max: 20_000 }).map((n) => "h".repeat(n)), 3),
  })
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Body;
  /** Raw socket request with duplicated headers and bytes fetch would refuse. */
  raw: null | { duplicate: string[]; nulInHeader: boolean };
}

const requestArb = (paths: string[]): fc.Arbitrary<FuzzRequest> => fc.record({
  method: fc.oneof({ weight: 4, arbitrary: fc.constant("POST") }, { weight: 3, arbitrary: fc.constantFrom(...METHODS) }),
  path: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: fc.webPath() }),
  headers: headersArb,
  body: bodyArb,
  raw: fc.oneof(
    { weight: 9, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.record({
        duplicate: fc.subarray(["content-type", "cookie", "content-length", "host", "x-forwarded-for"], { minLength: 1 }),
        nulInHeader: fc.boolean(),
      }),
    },
  ),
});

// ---- sending ------------------------------------------------------------

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  setCookie: string | null;
}

function bodyBytes(body: Body): Buffer | undefined {
  if (body.kind === "none") return undefined;
  return body.kind === "text" ? Buffer.from(body.text) : Buffer.from(body.bytes);
}

async function viaFetch(r: FuzzRequest): Promise<Answer> {
  const bytes = ["GET", "HEAD"].includes(r.method) ? undefined : bodyBytes(r.body);
  const body = bytes && new Uint8Array(bytes);
  const res = await fetch(srv.url + r.path, { method: r.method, headers: r.headers, body, redirect: "manual" });
  return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text(), setCookie: res.headers.get("set-cookie") };
}

/** One request on its own connection, written byte by byte as given, read until the server closes. */
function viaSocket(r: FuzzRequest): Promise<Answer> {
  const body = bodyBytes(r.body) ?? Buffer.alloc(0);
  const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: 127.0.0.1:${srv.port}`, "Connection: close"];
  for (const [name, value] of Object.entries(r.headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${body.length}`);
  for (const name of r.raw!.duplicate) {
    const value = name === "content-length" ? String(body.length + 1) : (r.headers[name] ?? "dup");
    lines.push(`${name}: ${value}`);
  }
  if (r.raw!.nulInHeader) lines.push("X-Nul: a\u0000b");
  const head = Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // write, not end: a client that half-closes its side is a client that went away, and Node drops its request.
    const socket = connect(srv.port, "127.0.0.1", () => socket.write(Buffer.concat([head, body])));
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // The server may hang up while we are still writing a body it already refused; what it said still counts.
      if (err.code === "EPIPE" || err.code === "ECONNRESET") socket.destroy();
      else reject(err);
    });
    socket.on("close", () => {
      const all = Buffer.concat(chunks).toString("latin1");
      const split = all.indexOf("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(all)?.[1] ?? 0);
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, "im").exec(all.slice(0, split))?.[1]?.trim() ?? null;
      let text = split >= 0 ? all.slice(split + 4) : "";
      if (/chunked/i.test(header("transfer-encoding") ?? "")) text = dechunk(text);
      resolve({ status, contentType: header("content-type"), text: Buffer.from(text, "latin1").toString("utf8"), setCookie: header("set-cookie") });
    });
  });
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const nl = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 4 + size);
  }
}

// ---- invariants ---------------------------------------------------------

const ERROR_KEYS = new Set(["error", "issues", "requestId"]);

/** The route's documented success, or null when this is not one. */
/** The built-in HTML pages and their assets (the routes declared with r.page): successes there are not JSON. */
function isPage(path: string): boolean {
  return declaredRoutes(srv.latchkey.app).some(
    (d) => "page" in d && new RegExp(`^${d.path.replace(/:\w+/g, "[^/]+")}$`).test(path),
  );
}

/** Is there a route for this method and path? (HEAD is served by GET routes.) */
function registered(method: string, path: string): boolean {
  const m = method === "HEAD" ? "GET" : method;
  return srv.latchkey.app.routes.some(
    (route) => route.method === m && new RegExp(`^${route.path.replace(/:\w+/g, "[^/]+")}$`).test(path),
  );
}

function successKind(r: FuzzRequest, a: Answer): "signup" | "login" | "page" | "other" | null {
  const path = new URL("http://x" + r.path).pathname; // as the client resolves it: "/me/../signup" is "/signup"
  if (a.status === 201 && path === "/signup" && r.method === "POST") return "signup";
  if (a.status === 200 && path === "/login" && r.method === "POST") return "login";
  if (a.status < 200 || a.status >= 400 || !registered(r.method, path)) return null;
  return isPage(path) ? "page" : "other";
}

function checkAnswer(r: FuzzRequest, a: Answer): void {
  const where = `${r.method} ${r.path} -> ${a.status} ${a.text.slice(0, 200)}`;
  expect(a.status, where).toBeGreaterThanOrEqual(200);
  expect(a.status, where).toBeLessThan(500);
  const success = successKind(r, a);
  if (!success) expect(a.status, where).toBeGreaterThanOrEqual(400);
  if (r.method === "HEAD" || a.status === 204 || success === "page") return; // no body, or HTML by design
  expect(a.contentType ?? "", where).toMatch(/^application\/json/);
  const body = JSON.parse(a.text) as Record<string, unknown>;
  expect(typeof body, where).toBe("object");
  if (a.status >= 400) {
    expect(typeof body.error === "string" && body.error.length > 0, where).toBe(true);
    for (const key of Object.keys(body)) expect(ERROR_KEYS.has(key), `${where}: unexpected key ${key}`).toBe(true);
    if (body.issues !== undefined) {
      expect(Array.isArray(body.issues), where).toBe(true);
      for (const issue of body.issues as { path: unknown; message: unknown }[]) {
        expect(typeof issue.path === "string" && typeof issue.message === "string", where).toBe(true);
      }
    }
    expect(a.setCookie === null || /Max-Age=0/.test(a.setCookie), `${where}: a refusal set a live cookie`).toBe(true);
  }
  // Never a secret in a body.
  expect(a.text.includes(KNOWN.password), where).toBe(false);
  expect(a.text, where).not.toMatch(/\$argon2id\$/);
}

const stats = new Map<string, number>();
function tally(r: FuzzRequest, a: Answer) {
  const key = `${r.raw ? "raw " : ""}${a.status} ${a.text.slice(0, 50)}`;
  stats.set(key, (stats.get(key) ?? 0) + 1);
}
afterAll(() => {
  if (process.env.FUZZ_STATS) console.log([...stats].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}\t${k}`).join("\n"));
});

describe("fuzzing every route", () => {
  it("aims at every route the app serves", () => {
    const paths = fuzzPaths();
    expect(paths).toEqual(expect.arrayContaining(["/signup", "/token/me", "/users/x%00y/sessions", "/assets/x%00y", "/openapi.json"]));
    expect(paths.length).toBeGreaterThan(20 + HOSTILE_PATHS.length);
  });

  it(`survives ${REQUESTS} hostile requests with only documented answers`, async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb(fuzzPaths()), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const before = counts();
        const answers = await Promise.all(batch.map((r) => (r.raw ? viaSocket(r) : viaFetch(r))));
        sent += batch.length;
        let signups = 0;
        let logins = 0;
        for (const [i, a] of answers.entries()) {
          if (process.env.FUZZ_STATS) tally(batch[i]!, a);
          checkAnswer(batch[i]!, a);
          const kind = successKind(batch[i]!, a);
          if (kind === "signup") signups++;
          if (kind === "login") {
            expect(a.setCookie).toMatch(/^session=[A-Za-z0-9_-]{43};/);
            logins++;
          }
        }
        // Only successes change the store: a refused request creates no user and no session.
        const after = counts();
        expect(after.users - before.users).toBe(signups);
        expect(after.sessions - before.sessions).toBe(logins);
      }),
      { seed: SEED, numRuns: Math.ceil(REQUESTS / BATCH), endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(REQUESTS);
    // Still up and still right.
    expect((await request(srv.url, "GET", "/healthz")).status).toBe(200);
    expect((await request(srv.url, "POST", "/login", { body: KNOWN })).status).toBe(200);
  }, 120_000);
});
