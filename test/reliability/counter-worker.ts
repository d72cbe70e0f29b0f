// A second process hitting one counter: opens the store named by DATABASE_URL
// (and REDIS_URL), adds HITS increments to KEY all at once, prints the counts it got.
import { storeFor } from "./engines.js";

const key = process.env.KEY!;
const hits = Number(process.env.HITS);
const windowMs = 3_600_000;
const store = await storeFor(process.env as Record<string, string>);
try {
  const now = Date.now();
  const states = await Promise.all(Array.from({ length: hits }, () => store.hitCounter(key, windowMs, now)));
  process.stdout.write(JSON.stringify(states.map((s) => s.count)) + "\n");
} finally {
  await store.close();
}
