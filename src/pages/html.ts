// A tiny HTML template helper: every interpolated value is escaped unless it
// is already Html (the output of another template). No framework, no build.
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

type Value = Html | string | number | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  if (value instanceof Html) return value.value;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

// Pages run no inline script and no inline style: everything comes from /assets.
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/**
 * An HTML page response: strict CSP, never cached (the back button after logout must ask the server again).
 * `Referrer-Policy: same-origin`, not the API's no-referrer: under no-referrer a browser sends
 * `Origin: null` with the page's own form POSTs, and over plain http (no Fetch Metadata) the
 * cross-site check must refuse those, so the no-JS Log out form would fail. Cross-origin
 * requests still carry no Referer.
 */
export function htmlResponse(body: Html, status = 200): Response {
  return new Response("<!doctype html>\n" + body.value, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": PAGE_CSP,
      "referrer-policy": "same-origin",
    },
  });
}
