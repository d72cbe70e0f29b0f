// The pages' static files, read once at start. Pages link them with a content
// hash in the query string, so they can be cached for a year and still change
// with each release.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface Asset {
  body: string;
  type: string;
  /** /assets/app.js?v=<hash> */
  href: string;
}

function load(name: string, type: string): Asset {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 12);
  return { body, type, href: `/assets/${name}?v=${hash}` };
}

export const ASSETS: Record<string, Asset> = {
  "app.js": load("app.js", "text/javascript; charset=utf-8"),
  "app.css": load("app.css", "text/css; charset=utf-8"),
};

export const ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable";
