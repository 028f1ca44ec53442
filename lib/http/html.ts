/** HTML responses with the headers a page holding operator data should carry. */
export function html(
  body: string,
  status = 200,
  opts: { nonce?: string; headers?: Record<string, string> } = {},
) {
  const script = opts.nonce ? `'nonce-${opts.nonce}'` : "'none'";
  // The caller's headers first: they add (a cookie, a location), never loosen what follows.
  return new Response(body, {
    status,
    headers: {
      ...opts.headers,
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "content-security-policy":
        `default-src 'none'; style-src 'unsafe-inline'; script-src ${script}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    },
  });
}

/** Text or an attribute value made safe to put in HTML (numeric entities for & < > " '). */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
