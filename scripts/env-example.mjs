#!/usr/bin/env node
// Writes .env.example from the README's configuration table (the one list of
// variables), so the two cannot drift: test/unit/env-example.test.ts checks
// that the committed file is what this script makes. `node scripts/env-example.mjs`.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** [{ names, default, meaning }] from the rows of the table under "## Configuration". */
export function configTable(readme) {
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5));
  return section
    .split("\n")
    .filter((line) => /^\| `[A-Z]/.test(line))
    .map((line) => {
      const [names, fallback, meaning] = line.slice(2, -2).split(" | ");
      return { names: [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]), fallback, meaning };
    });
}

const plain = (md) => md.replace(/`/g, "").replace(/\[([^\]]+)\]\([^)]*\)/g, "$1");

export function envExample(readme) {
  const lines = [
    "# Latchkey's configuration: every variable, commented out at its default.",
    "# Generated from README.md's configuration table by `node scripts/env-example.mjs`; do not edit by hand.",
    "# Copy to .env (read from the working directory at start) and uncomment what you change.",
  ];
  for (const row of configTable(readme)) {
    lines.push("", `# ${plain(row.meaning)}`, `# Default: ${plain(row.fallback)}`);
    const defaults = row.fallback.split(" / ");
    row.names.forEach((name, i) => {
      const value = /^`[^`]*`$/.test(defaults[i] ?? "") ? defaults[i].slice(1, -1) : "";
      lines.push(`# ${name}=${value}`);
    });
  }
  return lines.join("\n") + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(`${root}/.env.example`, envExample(readFileSync(`${root}/README.md`, "utf8")));
}
