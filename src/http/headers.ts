// The headers every response carries unless its route set them.
/** The headers every response carries unless its route set them: no caching, and the standard security headers. */
export function fixedHeaders(options: { hsts: boolean }): [string, string][] {
  const fixed: [string, string][] = [
    ["cache-control", "no-store"],
    ["x-content-type-options", "nosniff"],
    ["x-frame-options", "DENY"],
    ["referrer-policy", "no-referrer"],
    ["cross-origin-resource-policy", "same-origin"],
    ["content-security-policy", "default-src 'none'; frame-ancestors 'none'"],
  ];
  if (options.hsts) fixed.push(["strict-transport-security", "max-age=63072000; includeSubDomains"]);
  return fixed;
}
