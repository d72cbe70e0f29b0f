#!/usr/bin/env node
// What a consumer app installs: `node bench/install-footprint.mjs <spec>...` makes a fresh
// directory per spec (a package name or a tarball path), runs `npm install <spec>` there
// (npm's cache first), and prints the packages under node_modules and their size.
// The figures (latchkey's tarball vs better-auth vs express-session) come from this.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { installedPackages } from "../scripts/installed-packages.mjs";

for (const raw of process.argv.slice(2)) {
  const spec = existsSync(raw) ? resolve(raw) : raw;
  const dir = mkdtempSync(join(tmpdir(), "footprint-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", allowScripts: { "better-sqlite3": true } }));
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", spec], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    const count = installedPackages(join(dir, "node_modules")).size;
    const mb = Number(execFileSync("du", ["-sk", join(dir, "node_modules")], { encoding: "utf8" }).split("\t")[0]) / 1024;
    console.log(`${raw}: ${count} packages, ${mb.toFixed(1)} MB in node_modules`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
