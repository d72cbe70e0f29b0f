// The OpenAPI 3.1 document, generated from the routes' own declarations
// (http/route.ts: each routes/<group>.ts declares its routes next to their
// handlers) and the zod schemas they validate with.
import { z } from "zod";
import { CROSS_SITE, type AuthKind, type RouteDoc } from "./http/route.js";
import { currentPasswordSchema, emailSchema, newPasswordSchema } from "./schemas.js";

// Constraints zod expresses as refinements (which JSON Schema cannot see):
// stated here so the document tells clients the real limits. JSON Schema
// lengths count code points, exactly as the refinements do.
const REFINED: [z.ZodType, Record<string, unknown>][] = [
  [newPasswordSchema, { minLength: 8, maxLength: 1024, description: "8 to 1024 characters, taken exactly as typed" }],
  [currentPasswordSchema, { minLength: 1, maxLength: 1024 }],
  [emailSchema, { description: "One plain address (no display name, list, comment or quotes); trimmed, NFC-normalised and lower-cased; no control or invisible characters" }],
];

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const extra = REFINED.find(([s]) => (s as unknown) === zodSchema)?.[1];
      if (extra) Object.assign(jsonSchema, extra);
    },
  }) as Record<string, unknown>;
  delete out.$schema; // OpenAPI 3.1 schemas are 2020-12 by default
  return out;
}

/** /sessions/:id -> /sessions/{id} */
export function toOpenApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

/** One operation of the document, as the /docs page reads it. */
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Names of securitySchemes; empty when the route needs no credentials. */
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; description?: string; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: { "application/json": { schema: Record<string, unknown> } } };
  responses: Record<
    string,
    { description: string; headers?: Record<string, { description: string; schema: { type: string } }>; content?: { "application/json": { schema: Record<string, unknown> } } }
  >;
}

export type SecurityScheme =
  | { type: "apiKey"; in: "cookie" | "header" | "query"; name: string; description?: string }
  | { type: "http"; scheme: string; bearerFormat?: string; description?: string };

/** The security scheme each auth kind is documented with. */
const SCHEMES: Record<Exclude<AuthKind, "none">, [name: string, scheme: SecurityScheme]> = {
  cookie: ["sessionCookie", { type: "apiKey", in: "cookie", name: "session", description: "`__Host-session` in production" }],
  bearer: ["bearerToken", { type: "http", scheme: "bearer", bearerFormat: "JWT" }],
};

/** The route's responses, with the cross-site 403 when the check applies to it and it does not document its own. */
function responsesOf(doc: RouteDoc): RouteDoc["responses"] {
  const checked = doc.method !== "get" && doc.crossSite !== "exempt";
  return checked && !(403 in doc.responses) ? { ...doc.responses, ...CROSS_SITE } : doc.responses;
}

export function buildOpenApi(docs: readonly RouteDoc[], options: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const doc of docs) {
    const responses: Operation["responses"] = {};
    for (const [status, res] of Object.entries(responsesOf(doc))) {
      const headers = res.headers
        ? Object.fromEntries(Object.entries(res.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]))
        : undefined;
      responses[status] = {
        description: res.description,
        ...(headers && { headers }),
        ...(res.schema && { content: { "application/json": { schema: jsonSchema(res.schema, "output") } } }),
      };
    }
    const params: NonNullable<Operation["parameters"]> = [
      ...[...doc.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1]!, in: "path", required: true, schema: { type: "string" } })),
      ...(doc.query ?? []).map((q) => ({ name: q.name, in: "query", required: q.required ?? false, description: q.description, schema: q.schema })),
    ];
    const path = toOpenApiPath(doc.path);
    paths[path] ??= {};
    paths[path][doc.method] = {
      operationId: `${doc.method}${path.replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      summary: doc.summary,
      ...(doc.description && { description: doc.description }),
      tags: [doc.tag],
      security: doc.auth === "none" ? [] : [{ [SCHEMES[doc.auth][0]]: [] }],
      ...(params.length > 0 && { parameters: params }),
      ...(doc.body && {
        requestBody: { required: true, content: { "application/json": { schema: jsonSchema(doc.body, "input") } } },
      }),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Latchkey",
      version: options.version,
      description:
        "Session-based authentication: an HttpOnly cookie names a server-side session. Every response carries `Cache-Control: no-store`; every error is `{error}` (+ `issues` for validation); non-safe cross-site browser requests get 403.",
    },
    // Relative "/" (the document's own origin) unless PUBLIC_URL names the public one.
    servers: [{ url: options.serverUrl || "/" }],
    paths,
    components: {
      securitySchemes: Object.fromEntries(Object.values(SCHEMES)) as Record<string, SecurityScheme>,
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
