// .env.example is generated from the README's configuration table, and the
// table lists every variable config.ts reads: neither can drift.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without declarations
import { configTable, envExample } from "../../scripts/env-example.mjs";

const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

describe(".env.example", () => {
  it("is what scripts/env-example.mjs makes from the README (run it after changing the table)", () => {
    expect(readFileSync(new URL(".env.example", root), "utf8")).toBe(envExample(readme));
  });

  it("and the README's table list every variable config.ts reads", () => {
    const source = readFileSync(new URL("src/config.ts", root), "utf8");
    const read = new Set([
      ...[...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
      ...[...source.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)].map((m) => m[1]!),
    ]);
    const documented = new Set((configTable(readme) as { names: string[] }[]).flatMap((r) => r.names));
    expect(read.size).toBeGreaterThan(40);
    expect([...read].filter((v) => !documented.has(v))).toEqual([]);
    expect(envExample(readme)).toContain("# BASE_PATH=");
  });
});
