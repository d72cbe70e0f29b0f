// What a request tells an event: the client's address and user agent, and
// the current session's public id when there is one.
import type { Context } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import type { EventContext } from "../events.js";

export function eventContext(
  c: Context<AppEnv>,
  deps: Pick<Deps, "clientIp">,
  current?: { session?: { id: string; impersonatorId?: string | null }; actorId?: string },
): EventContext {
  return {
    ip: deps.clientIp(c),
    userAgent: c.req.header("user-agent") ?? null,
    sessionId: current?.session?.id ?? null,
    // Inside an impersonation, the admin is the actor of everything done.
    actorId: current?.actorId ?? current?.session?.impersonatorId ?? null,
  };
}
