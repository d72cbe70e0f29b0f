// The API reference: GET /openapi.json (always) and its readable page at
// /docs (with the other built-in pages). Both are built, at the first
// request, from the declarations of the routes the app serves.
import type { AppEnv, Deps } from "../deps.js";
import { json } from "../http/responses.js";
import { isApiRoute, routeGroup, type Route } from "../http/route.js";
import { buildOpenApi, type OpenApiDocument } from "../openapi.js";
import { underBasePath } from "../base-path.js";
import { htmlResponse } from "../pages/html.js";
import { docsPage } from "../pages/views.js";
import { VERSION } from "../version.js";
import { pageUser } from "./pages.js";

/** These routes, documented with `routes` (the app's other routes). */
export function docsRoutes(deps: Deps, routes: readonly Route<AppEnv>[]) {
  const r = routeGroup<AppEnv>();
  let document: OpenApiDocument | undefined;
  const openApi = () =>
    (document ??= buildOpenApi([...routes, ...r.routes].map((route) => route.declaration).filter(isApiRoute), {
      version: VERSION,
      serverUrl: deps.config.publicUrl && deps.config.publicUrl + deps.config.basePath,
    }));

  r.get(
    { path: "/openapi.json", tag: "Operations", auth: "none", summary: "This document (OpenAPI 3.1)", responses: { 200: { description: "The OpenAPI document" } } },
    () => json(openApi()),
  );

  if (deps.config.pagesEnabled) {
    r.page({ path: "/docs", auth: "cookie" }, async (c) => {
      const { user, page } = await pageUser(deps, c.req.raw);
      return htmlResponse(underBasePath(page(docsPage(openApi(), user)), deps.config.basePath));
    });
  }
  return r.routes;
}
