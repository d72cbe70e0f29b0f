// The OpenAPI document: valid OpenAPI 3.1, complete (every registered route),
// faithful (real answers match the documented schemas; JSON Schema and zod
// agree on bodies), and readable at /docs.
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declaredRoutes } from "../src/app.js";
import { isApiRoute, type Declaration } from "../src/http/route.js";
import { toOpenApiPath } from "../src/openapi.js";
import { loginBody, signupBody } from "../src/schemas.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
};
type Operation = {
  operationId: string;
  security: Record<string, string[]>[];
  requestBody?: { content: { "application/json": { schema: object } } };
  responses: Record<string, { content?: { "application/json": { schema: object } } }>;
};

let srv: TestServer;
let doc: Doc;
beforeAll(async () => {
  srv = await startTestServer();
  const res = await request(srv.url, "GET", "/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = res.body as Doc;
});
afterAll(() => srv.destroy());

const ajv = new Ajv2020({ strict: true, allErrors: true, strictTuples: false });
ajv.addKeyword("example");

/** Routes the app serves that no declaration names (middleware, method "ALL", aside). */
function undeclared(routes: readonly { method: string; path: string }[], declared: readonly Declaration[]): string[] {
  const names = new Set(declared.map((d) => `${d.method.toUpperCase()} ${d.path}`));
  return routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`).filter((r) => !names.has(r));
}

function operation(method: string, path: string): Operation {
  const op = doc.paths[toOpenApiPath(path)]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  return op;
}

/** Asserts the answer's status is documented for the route and its body matches the documented schema. */
function expectDocumented(method: string, path: string, res: { status: number; body: unknown }) {
  const documented = operation(method, path).responses[String(res.status)];
  expect(documented, `${method} ${path} answered ${res.status}, which is not documented`).toBeDefined();
  const schema = documented!.content?.["application/json"].schema;
  if (!schema) return;
  const validate = ajv.compile(schema);
  expect(validate(res.body), `${method} ${path} ${res.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every route the app serves, and only those", () => {
    const app = srv.latchkey.app;
    // Every route the app serves was declared (a bare app.get is not), once.
    const registered = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`);
    const declared = declaredRoutes(app).map((d) => `${d.method.toUpperCase()} ${d.path}`);
    expect(undeclared(app.routes, declaredRoutes(app))).toEqual([]);
    expect(registered.length).toBe(declared.length);
    expect(new Set(registered)).toEqual(new Set(declared));
    // The document has every declared API route, and nothing else.
    const api = declaredRoutes(app).filter(isApiRoute).map((d) => `${d.method} ${toOpenApiPath(d.path)}`);
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    expect(api.length).toBeGreaterThanOrEqual(7);
    expect(new Set(documented)).toEqual(new Set(api));
    // The built-in pages are declared, but they are not API routes.
    for (const path of ["/", "/account", "/docs"]) {
      expect(declared).toContain(`GET ${path}`);
      expect(doc.paths[path]).toBeUndefined();
    }
  });

  it("the completeness check catches a route registered around the declarations", () => {
    const bare = [...srv.latchkey.app.routes, { method: "GET", path: "/bare" }];
    expect(undeclared(bare, declaredRoutes(srv.latchkey.app))).toEqual(["GET /bare"]);
  });

  it("every schema in it compiles as strict JSON Schema 2020-12", () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const schemas = [op.requestBody?.content["application/json"].schema, ...Object.values(op.responses).map((r) => r.content?.["application/json"].schema)];
        for (const schema of schemas.filter(Boolean)) expect(() => ajv.compile(schema!), `${method} ${path}`).not.toThrow();
      }
    }
  });

  it("request bodies come from the routes' zod schemas: JSON Schema and zod accept and refuse the same bodies", () => {
    const samples: unknown[] = [
      { email: "[email protected]", password: "password123" },
      { email: "a@b.c", password: "1234567" }, // 7 characters
      { email: "a@b.c", password: "ééééééé" }, // 7 code points
      { email: "a@b.c", password: "😀😀😀😀😀😀😀😀" }, // 8 code points, 16 UTF-16 units
      { email: "a@b.c", password: "x".repeat(1024) },
      { email: "a@b.c", password: "x".repeat(1025) },
      { email: "", password: "password123" },
      { email: "x".repeat(321), password: "password123" },
      { email: "a@b.c" },
      { password: "password123" },
      { email: 42, password: "password123" },
      { email: "a@b.c", password: ["password123"] },
      "not an object",
    ];
    for (const [path, schema] of [["/signup", signupBody], ["/login", loginBody]] as const) {
      const validate = ajv.compile(operation("POST", path).requestBody!.content["application/json"].schema);
      for (const sample of samples) {
        expect(validate(sample), `${path} ${JSON.stringify(sample).slice(0, 60)}`).toBe(schema.safeParse(sample).success);
      }
    }
  });

  it("real answers match the documented status codes and schemas", async () => {
    const api = client(srv.url);
    const email = uniqueEmail("openapi");
    const body = { email, password: "password123" };
    expectDocumented("POST", "/signup", await api.post("/signup", body));
    expectDocumented("POST", "/signup", await api.post("/signup", body)); // 409
    expectDocumented("POST", "/signup", await api.post("/signup", { email: "", password: "x" })); // 400 + issues
    expectDocumented("POST", "/signup", await api.post("/signup", undefined, { raw: "{", headers: { "content-type": "application/json" } }));
    expectDocumented("POST", "/signup", await api.post("/signup", undefined, { raw: "a", headers: { "content-type": "text/plain" } })); // 415
    expectDocumented("POST", "/signup", await api.post("/signup", body, { headers: { "sec-fetch-site": "cross-site" } })); // 403
    expectDocumented("GET", "/me", await api.get("/me")); // 401
    expectDocumented("POST", "/login", await api.post("/login", { ...body, password: "wrong password" })); // 401
    expectDocumented("POST", "/login", await api.post("/login", body));
    expectDocumented("GET", "/me", await api.get("/me"));
    expectDocumented("POST", "/logout", await api.post("/logout"));
    expectDocumented("POST", "/logout", await api.post("/logout", undefined, { headers: { origin: "https://evil.example" } })); // 403
    expectDocumented("GET", "/healthz", await api.get("/healthz"));
    expectDocumented("GET", "/readyz", await api.get("/readyz"));
    expectDocumented("GET", "/openapi.json", await api.get("/openapi.json"));
  });
});

// Issue 15, HTTP hygiene: what the document declares matches what the routes do.
describe("the document's details", () => {
  const raw = () => doc as unknown as Record<string, any>;

  it("lists no cross-site 403 for the bearer routes, which are exempt from the cross-site check", async () => {
    for (const path of ["/token/login", "/token/refresh", "/token/logout"]) {
      expect((operation("POST", path).responses["403"] as { description?: string } | undefined)?.description ?? "").not.toMatch(/cross-site/i);
    }
    expect(Object.keys(operation("POST", "/token/refresh").responses)).not.toContain("403");
    const res = await request(srv.url, "POST", "/token/refresh", { body: { refreshToken: "x" }, headers: { "sec-fetch-site": "cross-site" } });
    expectDocumented("POST", "/token/refresh", res); // 401, not 403
  });

  it("documents the cross-site 403 exactly for the non-safe routes the check applies to (from their declarations)", () => {
    const nonSafe = declaredRoutes(srv.latchkey.app).filter(isApiRoute).filter((d) => d.method !== "get");
    expect(nonSafe.filter((d) => d.crossSite === "exempt").map((d) => d.path)).toEqual(["/token/login", "/token/login/mfa", "/token/refresh", "/token/logout"]);
    for (const d of nonSafe) {
      const forbidden = (operation(d.method, d.path).responses["403"] as { description?: string } | undefined)?.description ?? "";
      expect(/cross-site/i.test(forbidden), `${d.method} ${d.path}: ${forbidden}`).toBe(d.crossSite !== "exempt");
    }
  });

  it("declares the query parameters of GET /users and GET /reset-password", () => {
    const query = (path: string) =>
      (raw().paths[path].get.parameters as { name: string; in: string }[]).filter((p) => p.in === "query").map((p) => p.name);
    expect(query("/users")).toEqual(["limit", "cursor", "email"]);
    expect(query("/reset-password")).toEqual(["token"]);
  });

  it("has servers: / without PUBLIC_URL, the public origin with it", async () => {
    expect(raw().servers).toEqual([{ url: "/" }]);
    const pub = await startTestServer({ env: { PUBLIC_URL: "http://auth.example.test" } });
    try {
      expect((await request(pub.url, "GET", "/openapi.json")).body.servers).toEqual([{ url: "http://auth.example.test" }]);
    } finally {
      await pub.destroy();
    }
  });

  it("POST /sessions/revoke-others refuses a body (documented 400) and takes an empty one", async () => {
    const api = client(srv.url);
    const body = { email: uniqueEmail("revoke"), password: "password123" };
    await api.post("/signup", body);
    await api.post("/login", body);
    const refused = await api.post("/sessions/revoke-others", { keep: "this one" });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: "This route takes no request body" });
    expectDocumented("POST", "/sessions/revoke-others", refused);
    const form = await api.post("/sessions/revoke-others", undefined, { raw: "", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(200);
    expectDocumented("POST", "/sessions/revoke-others", form);
    expectDocumented("POST", "/sessions/revoke-others", await api.post("/sessions/revoke-others"));
  });
});

describe("GET /docs", () => {
  it("renders every operation of the document as HTML under the pages' strict CSP", async () => {
    const res = await request(srv.url, "GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    for (const methods of Object.values(doc.paths)) {
      for (const op of Object.values(methods)) expect(res.text).toContain(`id="${op.operationId}"`);
    }
    expect(res.text).toContain("Invalid email or password");
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(res.text).not.toMatch(/<style|\sstyle=/); // no inline style
  });

  it("labels each operation with the credentials its declaration names: bearer token, session cookie, none", async () => {
    const text = (await request(srv.url, "GET", "/docs")).text;
    const label = (operationId: string) =>
      new RegExp(`<article id="${operationId}"[\\s\\S]*?<p class="auth">Authentication: ([^<]*)</p>`).exec(text)?.[1];
    expect(operation("GET", "/token/me").security).toEqual([{ bearerToken: [] }]);
    expect(label(operation("GET", "/token/me").operationId)).toBe("bearer token");
    expect(label(operation("GET", "/me").operationId)).toBe("session cookie");
    expect(label(operation("POST", "/sessions/revoke-others").operationId)).toBe("session cookie");
    expect(label(operation("POST", "/token/login").operationId)).toBe("none");
  });

  it("with PAGES_ENABLED=false the document stays and the page goes (404 JSON)", async () => {
    const apiOnly = await startTestServer({ env: { PAGES_ENABLED: "false" } });
    try {
      expect((await request(apiOnly.url, "GET", "/openapi.json")).status).toBe(200);
      const page = await request(apiOnly.url, "GET", "/docs");
      expect(page.status).toBe(404);
      expect(page.body).toEqual({ error: "Not found" });
    } finally {
      await apiOnly.destroy();
    }
  });
});
