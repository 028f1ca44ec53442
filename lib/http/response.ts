/** Small response shapers shared by the routes. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
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
