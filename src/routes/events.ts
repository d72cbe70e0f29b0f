// Reading the audit log: a user's own activity, and every event for admins.
// Both newest first, paged by an opaque cursor; neither writes anything.
import { authenticateAdmin } from "../auth/authenticate.js";
import type { AppEnv, Deps } from "../deps.js";
import { toPublicEvent } from "../events.js";
import { parseQuery } from "../http/body.js";
import { json } from "../http/responses.js";
import { COMMON, FORBIDDEN, INVALID_QUERY, routeGroup, UNAUTHORIZED } from "../http/route.js";
import { z } from "zod";
import { activityQuery, adminEventsQuery, eventSchema } from "../schemas.js";
import type { EventPage } from "../store/event-store.js";

const eventPage = z.object({ events: z.array(eventSchema), nextCursor: z.string().nullable() });
const answer = (page: EventPage) => json({ events: page.events.map(toPublicEvent), nextCursor: page.nextCursor });

const PAGING = [
  { name: "limit", description: "Page size, 1 to 100 (default 20)", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
  { name: "cursor", description: "The previous page's `nextCursor`", schema: { type: "string" } },
];

export function eventRoutes(deps: Deps) {
  const { store } = deps;
  const r = routeGroup<AppEnv>();

  r.get(
    {
      path: "/account/activity", tag: "Account", auth: "cookie",
      summary: "My account's security events",
      description: "Sign-ins, failed sign-ins, sign-outs, password and role changes, admin actions on the account; newest first.",
      query: PAGING,
      responses: { 200: { description: "A page of events", schema: eventPage }, ...INVALID_QUERY, ...UNAUTHORIZED, ...COMMON },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const query = parseQuery(c.req.query(), activityQuery);
      if (query instanceof Response) return query;
      return answer(await store.events.list({ userId: auth.user.id, ...query }));
    },
  );

  r.get(
    {
      path: "/admin/events", tag: "Admin", auth: "cookie",
      summary: "Security events (admin)",
      description: "Every event, newest first, filtered by `userId`, `type` (one or more, comma-separated), `since` and `until` (ISO 8601; since inclusive, until exclusive).",
      query: [
        ...PAGING,
        { name: "userId", description: "Only this account's events", schema: { type: "string" } },
        { name: "type", description: "Event types, comma-separated (e.g. `login.failure,login.locked`)", schema: { type: "string" } },
        { name: "since", description: "From this time on (ISO 8601)", schema: { type: "string", format: "date-time" } },
        { name: "until", description: "Before this time (ISO 8601)", schema: { type: "string", format: "date-time" } },
      ],
      responses: {
        200: { description: "A page of events", schema: eventPage },
        ...INVALID_QUERY,
        ...UNAUTHORIZED,
        ...FORBIDDEN,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await authenticateAdmin(deps, c.req.raw);
      if (auth instanceof Response) return auth;
      const query = parseQuery(c.req.query(), adminEventsQuery);
      if (query instanceof Response) return query;
      const { type, ...filter } = query;
      return answer(await store.events.list({ ...filter, types: type }));
    },
  );

  return r.routes;
}
