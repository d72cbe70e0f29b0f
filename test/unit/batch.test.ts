// The batch loader behind PostgreSQL session reads (src/store/batch.ts).
import { describe, expect, it } from "vitest";
import { createBatchLoader } from "../../src/store/batch.js";

/** A load function over a mutable "table", recording every batch it is asked for. */
function table(initial: Record<string, number>) {
  const rows = new Map(Object.entries(initial));
  const batches: string[][] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const load = async (keys: string[]) => {
    batches.push(keys);
    // The read happens when the batch is sent, as a database would do it...
    const found = new Map(keys.filter((k) => rows.has(k)).map((k) => [k, rows.get(k)!]));
    // ...and its answer can be held back, to act while it is in flight.
    if (hold) await new Promise<void>((resolve) => (release = resolve));
    return found;
  };
  return {
    rows,
    batches,
    load,
    holdAnswers: () => (hold = true),
    releaseAnswer: () => release?.(),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("createBatchLoader", () => {
  it("sends the keys asked for in one turn as one batch, each key once, and answers every caller", async () => {
    const t = table({ a: 1, b: 2 });
    const get = createBatchLoader(t.load, { maxInFlight: 1, maxBatch: 100 });
    const answers = await Promise.all([get("a"), get("b"), get("missing"), get("a")]);
    expect(answers).toEqual([1, 2, null, 1]);
    expect(t.batches).toEqual([["a", "b", "missing"]]);
  });

  it("never lets a key join a batch already sent: a deletion before the ask is always seen", async () => {
    const t = table({ s: 1 });
    t.holdAnswers();
    const get = createBatchLoader(t.load, { maxInFlight: 1, maxBatch: 100 });
    const early = get("s");
    await turn(); // the first batch is now in flight, having read s = 1
    t.rows.delete("s"); // the session is revoked (committed) while that batch is in flight
    const late = get("s"); // asked for after the revocation
    t.releaseAnswer();
    expect(await early).toBe(1); // asked before the revocation: may see it live
    await turn();
    t.releaseAnswer();
    expect(await late).toBeNull(); // asked after: must not, though the key was in the earlier batch
    expect(t.batches).toEqual([["s"], ["s"]]);
  });

  it("gathers keys while at maxInFlight and sends them together when a batch completes", async () => {
    const t = table({ a: 1, b: 2, c: 3 });
    t.holdAnswers();
    const get = createBatchLoader(t.load, { maxInFlight: 1, maxBatch: 100 });
    const first = get("a");
    await turn();
    const rest = [get("b"), await turn(), get("c")];
    await turn();
    expect(t.batches).toEqual([["a"]]); // still one in flight
    t.releaseAnswer();
    await first;
    await turn();
    expect(t.batches).toEqual([["a"], ["b", "c"]]);
    t.releaseAnswer();
    expect(await Promise.all([rest[0], rest[2]])).toEqual([2, 3]);
  });

  it("splits more than maxBatch keys into several batches", async () => {
    const t = table(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i])));
    const get = createBatchLoader(t.load, { maxInFlight: 5, maxBatch: 4 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => get(`k${i}`)));
    expect(answers).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(t.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it("fails the keys waiting for a slot together with the batch that held it", async () => {
    let failBatch: ((err: Error) => void) | undefined;
    const loads: string[][] = [];
    const get = createBatchLoader(
      (keys: string[]) => {
        loads.push(keys);
        return new Promise<Map<string, number>>((_resolve, reject) => (failBatch = reject));
      },
      { maxInFlight: 1, maxBatch: 100 },
    );
    const first = get("a");
    await turn();
    const waiting = get("b"); // queued behind the stuck batch
    await turn();
    failBatch!(new Error("query timeout"));
    await expect(first).rejects.toThrow("query timeout");
    await expect(waiting).rejects.toThrow("query timeout"); // at once, not after a second timeout
    expect(loads).toEqual([["a"]]);
  });

  it("rejects every caller of a failed batch, and only those", async () => {
    let fail = true;
    const get = createBatchLoader(
      async (keys: string[]) => {
        if (fail) throw new Error("database gone");
        return new Map(keys.map((k) => [k, k.length]));
      },
      { maxInFlight: 1, maxBatch: 100 },
    );
    const failed = await Promise.allSettled([get("a"), get("bb")]);
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((failed[0] as PromiseRejectedResult).reason.message).toBe("database gone");
    fail = false;
    expect(await Promise.all([get("a"), get("bb")])).toEqual([1, 2]);
  });
});
