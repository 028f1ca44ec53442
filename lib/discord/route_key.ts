/**
 * Route keys: how a request maps onto Discord's per-route rate-limit buckets.
 *
 * Discord's buckets are per route template *and* "major parameter" (the guild id, the channel id,
 * or the webhook id + token), so `PATCH /guilds/1/members/2` and `PATCH /guilds/1/members/3` share
 * a bucket while `PATCH /guilds/9/members/2` does not. Ids that are not the major parameter become
 * `:id`; tokens are never kept (they become `:token`, with a short hash in the major parameter so
 * two interaction tokens still get two buckets).
 *
 * - `template` (`PATCH /guilds/:major/members/:id`) is what Discord's bucket hash is learned for.
 * - `key` (`PATCH /guilds/123/members/:id`) is the queue used until that hash is known.
 * - `label` is the same as `key` and safe to log or put in an error message.
 */

export interface RouteInfo {
  method: string;
  /** Template with the major parameter as `:major`; hints may merge several into one group. */
  template: string;
  /** The major parameter value ("123", "123~1a2b3c4d" for webhook id + token hash) or "-". */
  major: string;
  /** Queue key before the bucket hash is known: the template with the major parameter filled. */
  key: string;
  /** A token-free rendering of the route for logs: "PATCH /guilds/123/members/:id". */
  label: string;
  /** The same without the method: "/guilds/123/members/:id" (errors carry it as `route`). */
  path: string;
  /** Interaction callbacks and webhook-token routes do not count toward the global limit. */
  exemptGlobal: boolean;
  /** Routes carrying an interaction/webhook token in the path. */
  hasToken: boolean;
}

const SNOWFLAKE = /^\d{15,21}$/;

/**
 * Templates known to share one Discord bucket, grouped before the first response so the first
 * DELETE after a burst of PUTs does not overrun the bucket they share. The learned
 * `X-RateLimit-Bucket` hashes merge other shared routes at runtime.
 */
const SHARED_TEMPLATES: Record<string, string> = {
  "PUT /guilds/:major/members/:id/roles/:id": "PUT|DELETE /guilds/:major/members/:id/roles/:id",
  "DELETE /guilds/:major/members/:id/roles/:id": "PUT|DELETE /guilds/:major/members/:id/roles/:id",
};

/** FNV-1a, 32 bit, hex: enough to tell tokens apart in a bucket key without keeping them. */
function shortHash(input: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Parses `path` (relative to the API base, may carry a query) into its rate-limit route. */
export function parseRoute(method: string, path: string): RouteInfo {
  const m = method.toUpperCase();
  const bare = path.split("?")[0].split("#")[0];
  const parts = bare.split("/").filter((p) => p.length > 0);
  const root = parts[0] ?? "";
  let major = "-";
  let majorIndex = -1;
  let hasToken = false;
  let exemptGlobal = false;
  const out: string[] = [];

  if ((root === "guilds" || root === "channels") && parts[1] && SNOWFLAKE.test(parts[1])) {
    major = parts[1];
    majorIndex = 1;
  } else if (root === "webhooks" && parts[1]) {
    majorIndex = 1;
    major = parts[1];
    if (parts[2]) {
      hasToken = true;
      exemptGlobal = true;
      major = `${parts[1]}~${shortHash(parts[2])}`;
    }
  } else if (root === "interactions" && parts[1]) {
    majorIndex = 1;
    major = parts[1];
    hasToken = parts.length > 2;
    exemptGlobal = parts[parts.length - 1] === "callback";
  }

  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i];
    if (i === majorIndex) {
      out.push(":major");
    } else if (hasToken && i === 2 && (root === "webhooks" || root === "interactions")) {
      out.push(":token");
    } else if (seg === "reactions" && parts[i - 2] === "messages") {
      // Reaction routes: the emoji and anything after it share the route.
      out.push("reactions", ":reaction");
      if (parts.length > i + 2) out.push(parts[i + 2] === "@me" ? "@me" : ":id");
      break;
    } else if (SNOWFLAKE.test(seg)) {
      out.push(":id");
    } else {
      out.push(seg);
    }
  }

  const path0 = `/${out.join("/")}`;
  const plain = `${m} ${path0}`;
  const template = SHARED_TEMPLATES[plain] ?? plain;
  const key = template.replace(":major", major);
  const safePath = path0.replace(":major", major.split("~")[0]);
  const label = `${m} ${safePath}`;
  return { method: m, template, major, key, label, path: safePath, exemptGlobal, hasToken };
}
