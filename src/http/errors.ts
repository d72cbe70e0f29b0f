// What a thrown error is answered with, decided once for Hono's onError and
// the Node lanes: a busy hasher or an unreachable store is a 503 to retry, a
// client's broken body or bad request is its 4xx, anything else is a 500
// whose details go only to the log.
import { HTTPException } from "hono/http-exception";
import { PasswordHasherBusyError } from "../auth/passwords.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { REFUSALS, type RefusalCode } from "../refusals.js";
import { StoreUnavailableError } from "../store/store.js";
import { answer, type Answer } from "./answer.js";
import { isBrokenRequestBody } from "./body.js";

const RETRY = [["retry-after", "1"]] as const;
const refusal = (code: RefusalCode, extra?: Record<string, unknown>, headers?: Answer["headers"]) =>
  answer(REFUSALS[code].status, { error: REFUSALS[code].message, ...extra }, headers);

export function errorAnswer(err: unknown, requestId: string, logger: Logger, metrics: Pick<Metrics, "refused">): Answer {
  if (err instanceof PasswordHasherBusyError) {
    metrics.refused("hasher_busy");
    return refusal("serverBusy", undefined, RETRY);
  }
  if (err instanceof StoreUnavailableError) {
    metrics.refused("store_unavailable");
    return refusal("unavailable", undefined, RETRY);
  }
  if (err instanceof HTTPException && err.status < 500) return answer(err.status, { error: err.message || "Bad request" });
  if (isBrokenRequestBody(err)) {
    logger.info({ event: "http.broken_body", requestId }); // the client's fault: not an "unhandled error"
    return refusal("unreadableBody");
  }
  const e = err as Error;
  logger.error({ requestId, err: { name: e?.name, message: e?.message, stack: e?.stack } }, "unhandled error");
  metrics.refused("internal_error");
  return refusal("internal", { requestId });
}
