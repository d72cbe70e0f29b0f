// A second process hitting one counter: opens the store named by DATABASE_URL,
// adds HITS increments to KEY all at once, prints the counts it was handed.
import { loadConfig } from "../../src/config.js";
import { openStore } from "../../src/store/open.js";

const key = process.env.KEY!;
const hits = Number(process.env.HITS);
const windowMs = 3_600_000;
const store = await openStore(loadConfig({ ...process.env, NODE_ENV: "test" }));
try {
  const now = Date.now();
  const states = await Promise.all(Array.from({ length: hits }, () => store.hitCounter(key, windowMs, now)));
  process.stdout.write(JSON.stringify(states.map((s) => s.count)) + "\n");
} finally {
  await store.close();
}
