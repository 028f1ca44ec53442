import assert from "node:assert/strict";
import { html } from "../../lib/http/html.ts";

/** The CSP as a map of directive -> its value. */
function csp(res: Response): Map<string, string> {
  const raw = res.headers.get("content-security-policy") ?? "";
  return new Map(
    raw.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
}

Deno.test("html: the body, status 200 and every security header", async () => {
  const res = html("<p>hi</p>");
  assert.deepStrictEqual(res.status, 200);
  assert.deepStrictEqual(await res.text(), "<p>hi</p>");
  assert.deepStrictEqual(Object.fromEntries(res.headers), {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  });
});

Deno.test("html: without a nonce no script may run; with one only scripts carrying it", () => {
  assert.deepStrictEqual(csp(html("")).get("script-src"), "'none'");
  const res = html("", 200, { nonce: "a1b2c3d4" });
  const policy = csp(res);
  assert.deepStrictEqual(policy.get("script-src"), "'nonce-a1b2c3d4'");
  // Nothing else loosens: no inline scripts, no eval, no other origin.
  assert.deepStrictEqual(policy.get("default-src"), "'none'");
  assert.deepStrictEqual(policy.get("frame-ancestors"), "'none'");
  assert.deepStrictEqual(policy.get("base-uri"), "'none'");
  assert.deepStrictEqual(policy.get("form-action"), "'none'");
  assert.doesNotMatch(
    res.headers.get("content-security-policy")!,
    /unsafe-eval|script-src[^;]*unsafe-inline/,
  );
  assert.deepStrictEqual([...policy.keys()], [
    "default-src",
    "style-src",
    "script-src",
    "connect-src",
    "img-src",
    "base-uri",
    "form-action",
    "frame-ancestors",
  ]);
});

Deno.test("html: a status and extra headers; extra headers are added to the defaults", () => {
  const res = html("gone", 404, { headers: { "set-cookie": "a=b", "x-extra": "1" } });
  assert.deepStrictEqual(res.status, 404);
  assert.deepStrictEqual(res.headers.get("set-cookie"), "a=b");
  assert.deepStrictEqual(res.headers.get("x-extra"), "1");
  assert.deepStrictEqual(res.headers.get("x-frame-options"), "DENY");
  assert.deepStrictEqual(res.headers.get("cache-control"), "no-store");
  assert.deepStrictEqual(csp(res).get("script-src"), "'none'");
});

Deno.test("html: a caller's headers add to the page's, never replace its security headers", () => {
  const res = html("<p>x</p>", 302, {
    headers: {
      location: "/there",
      "content-security-policy": "default-src *",
      "x-frame-options": "ALLOWALL",
    },
  });
  assert.deepStrictEqual(res.headers.get("location"), "/there");
  assert.deepStrictEqual(res.headers.get("x-frame-options"), "DENY");
  assert.deepStrictEqual(
    res.headers.get("content-security-policy")?.startsWith("default-src 'none'"),
    true,
  );
});
