/** GET /status (HTML) and GET /status.json: the status page, for a live status session only. */
import type { App } from "../lib/app.ts";
import { html } from "../lib/http/html.ts";
import type { Handler } from "hono";
import { hasSession } from "../lib/http/status_access.ts";
import { collectStatus } from "../lib/status/data.ts";
import { renderPage, renderUnauthorized } from "../lib/status/html.ts";

export function statusPageRoute(app: App): Handler {
  return async (c) => {
    if (!(await hasSession(app.keys.session, c.req.raw, app.deps.clock.now()))) {
      return html(renderUnauthorized(), 401);
    }
    const nonce = crypto.randomUUID().replaceAll("-", "");
    return html(renderPage(await collectStatus(app), nonce), 200, { nonce });
  };
}

export function statusJsonRoute(app: App): Handler {
  return async (c) => {
    if (!(await hasSession(app.keys.session, c.req.raw, app.deps.clock.now()))) {
      return c.json({ error: "a status session is needed: open a fresh status link" }, 401);
    }
    return c.json(await collectStatus(app), 200, { "cache-control": "no-store" });
  };
}
