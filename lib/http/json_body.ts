/**
 * Request bodies for the JSON routes: Hono's `bodyLimit` caps them before they are buffered (413),
 * then `parseBody` reads one (an empty body is `{}`) and checks it against the route's zod schema,
 * or gives the 400 to send.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";

export const JSON_BODY_LIMIT = 64 * 1024;

/** Refuses a body over `maxSize` bytes with 413 `{error}`; `what` names the cap in the message. */
export function limitBody(maxSize: number, what = `${maxSize} bytes`): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) => c.json({ error: `body larger than ${what}` }, 413),
  });
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; error: string };

export async function jsonBody(c: Context): Promise<JsonBody> {
  let text: string;
  try {
    text = await c.req.text();
  } catch {
    return { ok: false, error: "could not read body" };
  }
  if (text.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: "body is not valid JSON" };
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; res: Response };

/**
 * The body checked against `schema`; else a 400 `{error}`: why it could not be read, or `message`
 * when given, or "invalid body" with each issue as `path: message`.
 */
export async function parseBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  message?: string,
): Promise<Parsed<z.infer<S>>> {
  const raw = await jsonBody(c);
  if (!raw.ok) return { ok: false, res: c.json({ error: raw.error }, 400) };
  const parsed = schema.safeParse(raw.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
  return {
    ok: false,
    res: c.json(message ? { error: message } : { error: "invalid body", issues }, 400),
  };
}
