// Work that runs once the response is on its way (mail, mostly): whether an
// address exists must not show in an answer or in its timing, and a slow
// SMTP server must not hold a request. Failures are logged, never thrown.
import type { Logger } from "../log.js";

export function createAfterResponse(logger: Logger) {
  const pending = new Set<Promise<void>>();
  return {
    /** Runs `work` after this turn of the event loop; a failure is logged as `failureEvent`. */
    later(failureEvent: string, work: () => Promise<void>): void {
      const run = new Promise<void>((resolve) => setImmediate(resolve))
        .then(work)
        .catch((err: Error) => logger.error({ event: failureEvent, message: err.message }))
        .finally(() => pending.delete(run));
      pending.add(run);
    },
    /** Waits for everything still running (graceful stop, tests). */
    async settle(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

export type AfterResponse = ReturnType<typeof createAfterResponse>;
