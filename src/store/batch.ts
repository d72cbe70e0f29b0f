// Coalescing keyed reads: the lookups asked for during one turn of the event
// loop go to the database as one query. Under load, many GET /me requests
// then share one round trip instead of paying one each.
//
// Revocation stays immediate: a key never joins a batch that has already been
// sent, so every lookup reads the database after it was asked for. A session
// deleted (committed) before a request asked for it cannot come back from an
// older batch.

export interface BatchOptions {
  /** Batches in flight at once; while at the limit, new keys wait (and gather) for the next one. */
  maxInFlight: number;
  /** Most keys in one batch (bounds the query's parameter array). */
  maxBatch: number;
}

type Waiter<V> = { resolve: (value: V | null) => void; reject: (err: unknown) => void };

/**
 * `load(keys)` answers a batch of distinct keys with a map of those found.
 * The returned function resolves one key's value (null when not found, as the Store's methods answer).
 */
export function createBatchLoader<K, V>(
  load: (keys: K[]) => Promise<Map<K, V>>,
  { maxInFlight, maxBatch }: BatchOptions,
): (key: K) => Promise<V | null> {
  let pending = new Map<K, Waiter<V>[]>();
  let scheduled = false;
  let inFlight = 0;

  const send = (batch: Map<K, Waiter<V>[]>) => {
    inFlight++;
    load([...batch.keys()]).then(
      (found) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key) ?? null);
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
        // The keys waiting for this slot fail with it: a silent database holds each
        // batch until the query timeout, and they would otherwise wait that long again.
        const waiting = pending;
        pending = new Map();
        for (const waiters of waiting.values()) for (const w of waiters) w.reject(err);
      },
    ).finally(() => {
      inFlight--;
      flush();
    });
  };

  const flush = () => {
    while (pending.size > 0 && inFlight < maxInFlight) {
      if (pending.size <= maxBatch) {
        const batch = pending;
        pending = new Map();
        send(batch);
      } else {
        const batch = new Map<K, Waiter<V>[]>();
        for (const [key, waiters] of pending) {
          if (batch.size === maxBatch) break;
          batch.set(key, waiters);
          pending.delete(key);
        }
        send(batch);
      }
    }
  };

  return (key) =>
    new Promise<V | null>((resolve, reject) => {
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
      // setImmediate, not nextTick: Node runs nextTick (and promise) callbacks between
      // I/O callbacks, which would send each request's lookup on its own.
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      }
    });
}
