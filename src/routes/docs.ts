// The API reference: GET /openapi.json (always) and its readable page at
// /docs (with the other built-in pages). Both are built from the routes the
// app really serves, at the first request, when every group is registered.
import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import { json } from "../http/responses.js";
import { buildOpenApi, type OpenApiDocument } from "../openapi.js";
import { underBasePath } from "../base-path.js";
import { htmlResponse } from "../pages/html.js";
import { docsPage } from "../pages/views.js";
import { VERSION } from "../version.js";
import { pageUser, type RouteTable } from "./pages.js";


export function docsRoutes(deps: Deps, app: RouteTable) {
  const docs = new Hono<AppEnv>();
  let document: OpenApiDocument | undefined;
  const openApi = () => (document ??= buildOpenApi({ registered: app.routes, version: VERSION, serverUrl: deps.config.publicUrl && deps.config.publicUrl + deps.config.basePath }));

  docs.get("/openapi.json", () => json(openApi()));

  if (deps.config.pagesEnabled) {
    docs.get("/docs", async (c) => htmlResponse(underBasePath(docsPage(openApi(), (await pageUser(deps, c.req.raw)).user), deps.config.basePath)));
  }
  return docs;
}
