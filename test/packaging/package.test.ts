// The package as a consumer gets it: `npm pack`, the tarball installed into a
// new app (npm's cache, no registry needed when it is warm), then the README's
// library example run by plain `node`, a TypeScript consumer type-checked with
// `tsc --init` defaults, and the installed `latchkey` command.
// Slow (better-sqlite3 compiles from source when no prebuilt binary fits), so
// it runs as its own step of `npm test` (vitest.packaging.config.ts), once.
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, uniqueEmail } from "../helpers/http.js";
import { ROOT } from "../helpers/process.js";
import { installedPackages } from "../../scripts/installed-packages.mjs";
import { tempDir } from "../helpers/server.js";

/** Every file the installed package needs at run time or for its types: a tarball without one fails here. */
const REQUIRED_FILES = [
  "package.json",
  "README.md",
  "LICENSE",
  "CHANGELOG.md",
  "bin/latchkey.js",
  "dist/index.js",
  "dist/index.d.ts",
  "dist/server.js",
  "dist/cli.js",
  "dist/auth/common-passwords.txt",
  "dist/auth/common-passwords.LICENSE.txt",
  "dist/pages/assets/app.js",
  "dist/pages/assets/app.css",
];
/**
 * The packages an SQLite app installs with latchkey. The issue asks for 40 at most; better-sqlite3 12 (the
 * last major for Node 20) brings 38 by itself (prebuild-install's tree), pino 13, argon2 2, the rest 8 (hono,
 * @hono/node-server, zod, jose, @types/node + undici-types, uqr (the two-factor set-up's QR code, no
 * dependencies), latchkey). This bound catches a regression (an optional engine or a dev tool becoming a
 * dependency again); better-sqlite3 13 (Node 22+) would bring it to 25.
 */
const MAX_CONSUMER_PACKAGES = 61;
/** What a consumer never needs. */
const FORBIDDEN_PREFIXES = ["src/", "test/", "bench/", ".ci/", "scripts/", "examples/", "docs/", "node_modules/", "dist/.build-stamp"];

/** The fenced code block that follows `<!-- packaging-test: <name> -->` in the README. */
export function readmeBlock(readme: string, name: string): string {
  const match = new RegExp(`<!-- packaging-test: ${name.replace(".", "\\.")} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no code block marked <!-- packaging-test: ${name} -->`);
  return match[1]!;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const res = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${res.status}) in ${cwd}:\n${res.stdout}\n${res.stderr}`);
  }
  return res;
}

const dir = tempDir("latchkey-package-");
const app = join(dir.path, "app");
let installOutput = "";
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

beforeAll(() => {
  // `npm pack` runs `prepack`, which rebuilds dist/ when src/ is newer.
  const out = run("npm", ["pack", "--json", "--pack-destination", dir.path], ROOT).stdout;
  packed = (JSON.parse(out.slice(out.indexOf("["))) as (typeof packed)[])[0]!;
  const tarball = join(dir.path, packed.filename);
  console.log(`tarball: ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} kB packed, ${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked`);

  mkdirSync(app);
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: { latchkey: `file:${tarball}` },
      // npm 11 runs no install script unless the app allows it; better-sqlite3 builds its binding in one.
      allowScripts: { "better-sqlite3": true },
    }),
  );
  // The README's install line (its `latchkey` is this tarball, already named in package.json).
  const install = readmeBlock(readme, "install").trim().split(/\s+/);
  expect(install.slice(0, 2)).toEqual(["npm", "install"]);
  const extra = install.slice(2).filter((p) => p !== "latchkey");
  installOutput = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...extra], app).stderr;
  writeFileSync(join(app, "app.js"), readmeBlock(readme, "app.js"));
  writeFileSync(join(app, "app.ts"), readmeBlock(readme, "app.js"));
  // A TypeScript consumer exactly as `tsc --init` sets one up (with skipLibCheck off, to check our .d.ts too).
  run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--init"], app);
}, 900_000);

afterAll(() => dir.remove());

describe("the packed tarball", () => {
  it("holds every file the package needs and nothing of the repository's own", () => {
    const paths = packed.files.map((f) => f.path);
    for (const file of REQUIRED_FILES) expect(paths, `tarball lacks ${file}`).toContain(file);
    for (const path of paths) {
      expect(FORBIDDEN_PREFIXES.some((p) => path.startsWith(p)), `tarball carries ${path}`).toBe(false);
    }
  });

  it("installs with no warning about install scripts beyond better-sqlite3's, which the app allows", () => {
    expect(installOutput).not.toContain("install-scripts");
  });

  it("installs without pg, ioredis, nodemailer, prom-client or tsx (optional or development-only), in at most ${MAX_CONSUMER_PACKAGES} packages", () => {
    const installed = installedPackages(join(app, "node_modules"));
    for (const name of ["pg", "ioredis", "nodemailer", "prom-client", "tsx", "typescript", "vitest"]) expect(installed.has(name), name).toBe(false);
    console.log(`consumer app: ${installed.size} packages installed`);
    expect(installed.size).toBeLessThanOrEqual(MAX_CONSUMER_PACKAGES);
  });
});

describe("the installed package", () => {
  it("runs the README's library example with plain node: signup, login, /me, logout", async () => {
    const child = spawn(process.execPath, ["app.js"], {
      cwd: app,
      env: { ...process.env, NODE_ENV: "development", PORT: "0", LOG_LEVEL: "warn", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (d) => (output += d));
    const exited = once(child, "exit");
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          output += d;
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m) resolve(m[1]!);
        });
        exited.then(() => reject(new Error(`the example exited before listening:\n${output}`)));
      });
      const c = client(url);
      const email = uniqueEmail();
      expect((await c.post("/auth/signup", { email, password: "password123" })).status).toBe(201);
      expect((await c.post("/auth/login", { email, password: "password123" })).status).toBe(200);
      expect((await c.get("/auth/me")).body.user.email).toBe(email);
      expect((await c.get("/dashboard")).status).toBe(200);
      expect((await c.post("/auth/logout")).status).toBe(200);
      expect((await c.get("/auth/me")).status).toBe(401);
      // The default database is the CLI's: `latchkey users list` in the same app sees the account.
      const listed = run(join(app, "node_modules/.bin/latchkey"), ["users", "list"], app, { DATABASE_URL: "" });
      expect(listed.stdout).toContain(email);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, 60_000);

  it("type-checks in a TypeScript consumer with `tsc --init` defaults and skipLibCheck off, without extra @types", () => {
    const res = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "--skipLibCheck", "false"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(res.stdout + res.stderr).toBe("");
    expect(res.status).toBe(0);
  }, 120_000);

  it("answers `latchkey --version` and `latchkey --help`", () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const bin = join(app, "node_modules/.bin/latchkey");
    expect(run(bin, ["--version"], app).stdout.trim()).toBe(version);
    expect(run(bin, ["--help"], app).stdout).toContain("Usage: latchkey <command>");
  });

  it("names the package to install when DATABASE_URL, REDIS_URL, SMTP_URL or METRICS_TOKEN needs one that is absent", () => {
    const bin = join(app, "node_modules/.bin/latchkey");
    const serve = (env: Record<string, string>) =>
      spawnSync(bin, ["serve"], { cwd: app, encoding: "utf8", env: { ...process.env, PORT: "0", NODE_ENV: "test", ...env } });
    const pg = serve({ DATABASE_URL: "postgres://u:p@127.0.0.1:1/db" });
    expect(pg.status).toBe(1);
    expect(pg.stderr.trim()).toBe('latchkey serve: DATABASE_URL is a postgres:// URL: install the "pg" package (npm install pg)');
    const redis = serve({ DATABASE_URL: "sqlite::memory:", REDIS_URL: "redis://127.0.0.1:1" });
    expect(redis.stderr.trim()).toBe('latchkey serve: REDIS_URL is set: install the "ioredis" package (npm install ioredis)');
    const smtp = serve({ DATABASE_URL: "sqlite::memory:", SMTP_URL: "smtp://127.0.0.1:1" });
    expect(smtp.stderr.trim()).toBe('latchkey serve: SMTP_URL is set: install the "nodemailer" package (npm install nodemailer)');
    const metrics = serve({ DATABASE_URL: "sqlite::memory:", METRICS_TOKEN: "m".repeat(40) });
    expect(metrics.status).toBe(1);
    expect(metrics.stderr.trim()).toBe('latchkey serve: METRICS_TOKEN is set: install the "prom-client" package (npm install prom-client)');
  });

  it("says how to get better-sqlite3's binding when it is missing", () => {
    const binding = join(app, "node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    renameSync(binding, `${binding}.away`);
    try {
      const res = spawnSync(process.execPath, ["--input-type=module", "-e", 'import { createLatchkey } from "latchkey"; createLatchkey();'], {
        cwd: app,
        encoding: "utf8",
        env: { ...process.env, NODE_ENV: "test", DATABASE_URL: "sqlite::memory:" },
      });
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain(
        'better-sqlite3 has no native binding for this Node.js: allow its install script (npm 11: "allowScripts": {"better-sqlite3": true} in package.json) and run "npm rebuild better-sqlite3"',
      );
    } finally {
      renameSync(`${binding}.away`, binding);
    }
  });
});
