// The cross-site check for every non-safe request. Browsers always send
// Sec-Fetch-Site or Origin on such requests, so:
//   Sec-Fetch-Site: same-origin / none      -> allowed
//   Sec-Fetch-Site: same-site               -> allowed only if configured
//   Sec-Fetch-Site: anything else           -> refused
//   no Sec-Fetch-Site, Origin present       -> allowed only for a trusted origin
//   neither header                          -> not a browser (curl, a server): allowed
// SameSite=Lax on the cookie stays on as defence in depth.
import { refuse } from "../refusals.js";

export interface CrossSiteOptions {
  /** Origins allowed besides the request's own (PUBLIC_URL, TRUSTED_ORIGINS). */
  trustedOrigins: readonly string[];
  allowSameSite: boolean;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function isCrossSiteRequest(request: Request, options: CrossSiteOptions): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) {
    if (site === "same-origin" || site === "none") return false;
    return !(site === "same-site" && options.allowSameSite);
  }
  const origin = request.headers.get("origin");
  if (origin === null) return false;
  if (options.trustedOrigins.includes(origin)) return false;
  // With no configured origin, a request from the page's own origin (the Host it was sent to) is same-origin.
  return options.trustedOrigins.length > 0 || origin !== new URL(request.url).origin;
}

/** null when the request may proceed, else the 403 that ends it. */
export function checkCrossSite(request: Request, options: CrossSiteOptions): Response | null {
  return isCrossSiteRequest(request, options) ? refuse("crossSite") : null;
}
