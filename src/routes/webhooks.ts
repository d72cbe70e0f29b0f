// The webhook outbox for admins: deliveries that ran out of time
// (WEBHOOK_MAX_AGE) and putting them back. Authenticated like the admin
// routes: 401 without a session, 403 without the admin role.
import type { Context } from "hono";
import { z } from "zod";
import { authenticateAdmin } from "../auth/authenticate.js";
import { iso } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { toPublicEvent } from "../events.js";
import { parseJsonBody, parseQuery } from "../http/body.js";
import { json } from "../http/responses.js";
import { ADMIN_WRITE, COMMON, FORBIDDEN, INVALID_QUERY, JSON_BODY_ERRORS, routeGroup, UNAUTHORIZED } from "../http/route.js";
import { eventSchema } from "../schemas.js";
import type { WebhookDelivery } from "../store/event-store.js";
import { decodeDeliveryCursor } from "../store/outbox-cursor.js";
import { shownEndpoint } from "../webhooks/deliverer.js";

const PAGE_SIZE = 50;

const failedQuery = z.object({
  cursor: z
    .string()
    .max(400, "cursor must be at most 400 characters")
    .refine((c) => decodeDeliveryCursor(c) !== null, "cursor must be a nextCursor from a previous page")
    .optional(),
});

export const redeliverBody = z.union([
  z.object({ eventId: z.string().min(1, "eventId must not be empty").max(100, "eventId must be at most 100 characters") }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);

const failedDelivery = z.object({
  endpoint: z.string().describe("The receiver's URL (its query string, which may hold a token, shown as ?…)"),
  event: eventSchema,
  attempts: z.number().int(),
  createdAt: z.string().describe("When it entered the outbox (or was last redelivered), ISO 8601"),
  lastError: z.string().nullable().describe("The last attempt's outcome: an HTTP status, a timeout or a network error class"),
});

/** A failed delivery as admins see it. */
export function publicDelivery(d: WebhookDelivery) {
  return {
    endpoint: shownEndpoint(d.endpoint),
    event: toPublicEvent(d.event),
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    lastError: d.lastError,
  };
}

export function webhookRoutes(deps: Deps) {
  const { store, clock, logger } = deps;
  const r = routeGroup<AppEnv>();

  const signedInAdmin = (c: Context<AppEnv>) => authenticateAdmin(deps, c.req.raw);

  r.get(
    {
      path: "/admin/webhooks/failed", tag: "Admin", auth: "cookie",
      summary: "Failed webhook deliveries (admin)",
      description: `Deliveries still failing after WEBHOOK_MAX_AGE, oldest event first, ${PAGE_SIZE} per page. Pass \`nextCursor\` back as \`cursor\` for the next page (\`null\` on the last).`,
      query: [{ name: "cursor", description: "The previous page's `nextCursor`", schema: { type: "string" } }],
      responses: {
        200: { description: "A page of failed deliveries", schema: z.object({ deliveries: z.array(failedDelivery), nextCursor: z.string().nullable() }) },
        ...INVALID_QUERY,
        ...UNAUTHORIZED,
        ...FORBIDDEN,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const query = parseQuery(c.req.query(), failedQuery);
      if (query instanceof Response) return query;
      const page = await store.webhooks.listFailed({ limit: PAGE_SIZE, cursor: query.cursor });
      return json({ deliveries: page.deliveries.map(publicDelivery), nextCursor: page.nextCursor });
    },
  );

  r.post(
    {
      path: "/admin/webhooks/redeliver", tag: "Admin", auth: "cookie",
      summary: "Redeliver failed webhooks (admin)",
      description: "`{eventId}`: that event's failed deliveries; `{all: true}`: every failed delivery. They go back to pending with a fresh WEBHOOK_MAX_AGE; that user's events not yet sent wait behind them again (those already sent are not sent again).",
      body: redeliverBody,
      responses: {
        200: { description: "How many deliveries went back to pending", schema: z.object({ redelivered: z.number().int() }) },
        ...JSON_BODY_ERRORS,
        ...ADMIN_WRITE,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, redeliverBody);
      if (body instanceof Response) return body;
      const target = "all" in body ? "all" : { eventId: body.eventId };
      const redelivered = await store.webhooks.redeliver(target, clock());
      logger.info({ event: "admin.webhooks_redelivered", requestId: c.get("requestId"), adminId: auth.user.id, target: target === "all" ? "all" : target.eventId, redelivered });
      return json({ redelivered });
    },
  );

  return r.routes;
}
