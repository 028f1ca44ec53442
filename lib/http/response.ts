/** Small response shapers shared by the routes. */
const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  return new Response(JSON.stringify(body), {
    status,
    // The common case (no extra headers) builds no per-response header object.
    headers: headers ? { ...JSON_TYPE, ...headers } : JSON_TYPE,
  });
}

/** A JSON error body `{error, ...detail}` with the given status. */
export function httpError(
  status: number,
  error: string,
  detail: Record<string, unknown> = {},
): Response {
  return json({ error, ...detail }, status);
}
