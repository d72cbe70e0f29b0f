// Latchkey mounted under a path prefix (BASE_PATH, or the path of PUBLIC_URL,
// or createLatchkey({ basePath })): everything it writes that a browser or a
// mail reader follows (page links, form actions, assets, redirects, the
// pages' API calls, the reset link, the OpenAPI server URL) carries the
// prefix. The routes themselves stay relative (the app is mounted under the
// prefix, or the standalone server mounts it there), and the session cookie
// keeps Path=/ (see the README: __Host- cookies require it, and the host
// app's own routes need the same cookie).
import { Html } from "./pages/html.js";

const SEGMENTS = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;

/** "/auth", "/auth/" or "auth" -> "/auth"; "" or "/" -> "" (no prefix). Undefined for anything else. */
export function normalizeBasePath(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  const path = trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
  return SEGMENTS.test(path) && !path.split("/").some((s) => s === "." || s === "..") ? path : undefined;
}

/** The home page's path: "/" at the root, "/auth" under /auth (a mounted Hono app serves "/" there, not "/auth/"). */
export const homePath = (basePath: string) => basePath || "/";

/** Where emailed links point: PUBLIC_URL, else (development) this server on localhost; under BASE_PATH. */
export function linkBase(config: { publicUrl: string | undefined; port: number; basePath?: string | undefined }): string {
  return (config.publicUrl ?? `http://localhost:${config.port}`) + (config.basePath ?? "");
}

/**
 * A rendered page with every root-relative URL attribute (href, src, action;
 * not "//host" ones or fragments) under the prefix, and the prefix on <html
 * data-base> for /assets/app.js, which builds its API calls and redirects from it.
 */
export function underBasePath(page: Html, basePath: string): Html {
  if (!basePath) return page;
  return new Html(
    page.value
      .replace(/\b(href|src|action)="\/"/g, `$1="${basePath}"`)
      .replace(/\b(href|src|action)="\/(?!\/)/g, `$1="${basePath}/`)
      .replace(/^<html\b/, `<html data-base="${basePath}"`),
  );
}
