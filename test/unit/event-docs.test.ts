// The README's table of security events (its section) lists exactly the types the code
// records (src/events.ts), in the same order: neither can drift.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/events.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README security events", () => {
  it("documents every event type, and no other", () => {
    const start = readme.indexOf("## Security events");
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
    const documented = [...section.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(EVENT_TYPES));
  });
});
