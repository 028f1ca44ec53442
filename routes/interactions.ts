/**
 * POST /interactions: Discord's webhook. Size cap, signature, JSON and shape checks in that order,
 * then dispatch. The answer is always 2xx once the request is authentic and well-formed.
 */
import { z } from "zod";
import type { APIInteraction } from "discord-api-types/v10";
import type { App } from "../lib/app.ts";
import { dispatch } from "../lib/interactions/dispatch.ts";
import type { Handler } from "hono";
import { limitBody } from "../lib/http/json_body.ts";
import { SNOWFLAKE } from "../lib/discord/snowflake.ts";

const MAX_BODY_BYTES = 1_000_000;

const snowflake = z.string().regex(SNOWFLAKE);
// Discord's user object always has a username; handlers show it (audit entries, backup authors).
const user = z.looseObject({ id: snowflake, username: z.string().min(1).max(64) });
// What the handlers read from a member: a user, permission bits as a decimal string, role ids.
const member = z.looseObject({
  user,
  permissions: z.string().regex(/^\d{1,40}$/),
  roles: z.array(snowflake).max(1_000),
});
type RawOption = {
  name: string;
  type: number;
  value?: string | number | boolean;
  focused?: boolean;
  options?: RawOption[];
};
const option: z.ZodType<RawOption> = z.looseObject({
  name: z.string().min(1).max(32),
  type: z.number().int(),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  focused: z.boolean().optional(),
  get options() {
    return z.array(option).max(25).optional();
  },
});
const base = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1),
  version: z.number(),
  guild_id: snowflake.optional(),
  channel: z.looseObject({ id: snowflake }).optional(),
  channel_id: snowflake.optional(),
  member: member.optional(),
  user: user.optional(),
  locale: z.string().max(16).optional(),
  guild_locale: z.string().max(16).optional(),
};
const BUTTON = 2;
const modalInput = z.looseObject({ custom_id: z.string().max(100).optional() });
const interactionSchema = z.discriminatedUnion("type", [
  z.looseObject({ ...base, token: z.string(), type: z.literal(1) }),
  z.looseObject({
    ...base,
    type: z.union([z.literal(2), z.literal(4)]),
    data: z.looseObject({
      id: snowflake,
      name: z.string().min(1).max(32),
      type: z.number().int(),
      options: z.array(option).max(25).optional(),
      target_id: snowflake.optional(),
      resolved: z.looseObject({ users: z.record(snowflake, user).optional() }).optional(),
    }),
  }),
  z.looseObject({
    ...base,
    type: z.literal(3),
    data: z.looseObject({
      custom_id: z.string().max(100),
      component_type: z.number().int(),
      values: z.array(z.string().max(100)).max(25).optional(),
    }).refine(
      (d) => d.component_type === BUTTON || d.values !== undefined,
      "a select menu interaction has values",
    ),
  }),
  z.looseObject({
    ...base,
    type: z.literal(5),
    data: z.looseObject({
      custom_id: z.string().max(100),
      components: z.array(z.looseObject({
        components: z.array(modalInput).max(5).optional(),
        component: modalInput.optional(),
      })).max(5),
    }),
  }),
]).refine(
  (i) => i.type === 1 || i.member !== undefined || i.user !== undefined,
  "interaction has no user",
);

const decoder = new TextDecoder();
const TYPE_NAMES: Record<number, string> = {
  1: "ping",
  2: "application_command",
  3: "message_component",
  4: "autocomplete",
  5: "modal_submit",
};

export function interactionsRoute(app: App): Handler {
  // Hono's bodyLimit as this route's middleware would cost every request a composed chain (about
  // 3 µs, measured): a body framed by its Content-Length is checked here as bodyLimit would, and
  // only an unframed (chunked) one goes through bodyLimit itself.
  const limit = limitBody(MAX_BODY_BYTES, "1 MB");
  const tooLarge = { error: "body larger than 1 MB" };
  return async (c) => {
    const headers = c.req.raw.headers;
    const declared = headers.get("content-length");
    if (declared !== null && !headers.has("transfer-encoding")) {
      if (Number(declared) > MAX_BODY_BYTES) return c.json(tooLarge, 413);
    } else {
      const refused = await limit(c, () => Promise.resolve());
      if (refused) return refused;
    }
    let body: Uint8Array;
    try {
      // One whole read: no ReadableStream is built for a framed body.
      body = await c.req.raw.bytes();
    } catch {
      return c.json({ error: "could not read body" }, 400);
    }
    // A Request built in-process is not framed by a server: its header may understate the body.
    if (body.length > MAX_BODY_BYTES) return c.json(tooLarge, 413);
    const req = c.req.raw;
    const check = await app.verifier.verify(
      req.headers.get("x-signature-ed25519"),
      req.headers.get("x-signature-timestamp"),
      body,
      app.deps.clock.now(),
    );
    if (!check.ok) return c.json({ error: `invalid request signature: ${check.reason}` }, 401);
    let raw: unknown;
    try {
      raw = JSON.parse(decoder.decode(body));
    } catch {
      return c.json({ error: "body is not valid JSON" }, 400);
    }
    const parsed = interactionSchema.safeParse(raw);
    if (!parsed.success) return c.json({ error: "body is not a Discord interaction" }, 400);
    const started = performance.now();
    const { response, after, outcome } = await dispatch(
      app.interactions,
      parsed.data as unknown as APIInteraction,
    );
    const type = TYPE_NAMES[parsed.data.type];
    app.deps.metrics?.interactions.inc({ type, outcome });
    app.deps.metrics?.interactionSeconds.observe({ type }, (performance.now() - started) / 1000);
    if (after.length) {
      // Deferred work starts once the response has been handed back to the server.
      app.deps.waitUntil(
        new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() =>
          Promise.all(after.map((work) => work()))
        ),
      );
    }
    return c.json(response);
  };
}
