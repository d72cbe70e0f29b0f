// The package names under a node_modules tree (nested ones too): what a consumer app installed.
// Used by bench/install-footprint.mjs and the packaging test.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** @returns {Set<string>} */
export function installedPackages(dir, into = new Set()) {
  if (!existsSync(dir)) return into;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const names = entry.startsWith("@") ? readdirSync(join(dir, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      if (!existsSync(join(dir, name, "package.json"))) continue;
      into.add(name);
      installedPackages(join(dir, name, "node_modules"), into);
    }
  }
  return into;
}
