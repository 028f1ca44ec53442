import { InteractionResponseType, MessageFlags, PermissionFlagsBits } from "discord-api-types/v10";
import assert from "node:assert/strict";
import {
  commandInteraction,
  componentInteraction,
  createTestApp,
  GUILD_ID,
  rawOptions,
  type TestApp,
  USER_ID,
  withTestApp,
} from "../_harness.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { opt } from "../../lib/interactions/options.ts";
import { setAllowedRole } from "../../lib/interactions/permissions.ts";

const counterKey = ["test", "side-effects"];
/** The test command's use count, on KV's atomic sum. */
const increment = (kv: Deno.Kv, key: Deno.KvKey) => kv.atomic().sum(key, 1n).commit();
async function readCounter(kv: Deno.Kv, key: Deno.KvKey): Promise<number> {
  const e = await kv.get<Deno.KvU64>(key);
  return e.value ? Number(e.value.value) : 0;
}

let releaseSlow: (() => void) | undefined;

const testCommands = [
  defineCommand({
    name: "counter",
    description: "Counts its uses",
    category: "Test",
    cooldown: false,
    handler: async (ctx) => {
      await increment(ctx.deps.kv, counterKey);
      return ctx.reply({
        content: `count ${await readCounter(ctx.deps.kv, counterKey)}`,
        components: [{
          type: 1,
          components: [{
            type: 2,
            style: 1,
            label: "Press",
            custom_id: await ctx.customId("press", "42"),
          }],
        }],
      });
    },
    publicComponents: true,
    components: { press: (ctx) => ctx.update(`pressed with state ${ctx.state}`) },
  }),
  defineCommand({
    name: "boom",
    description: "Always throws",
    category: "Test",
    handler: () => {
      throw new Error("kaboom");
    },
  }),
  defineCommand({
    name: "guarded",
    description: "Needs Manage Roles",
    category: "Test",
    permissions: ["ManageRoles"],
    cooldown: false,
    handler: (ctx) => ctx.ephemeral("allowed"),
    components: { act: (ctx) => ctx.update("acted") },
  }),
  defineCommand({
    name: "limited",
    description: "Default cooldown",
    category: "Test",
    handler: (ctx) => ctx.ephemeral("ok"),
  }),
  defineCommand({
    name: "peek",
    description: "Read-only, default cooldown",
    category: "Test",
    readOnly: true,
    handler: (ctx) => ctx.ephemeral(`peek by ${ctx.user.id}`),
  }),
  defineCommand({
    name: "num",
    description: "Takes a number",
    category: "Test",
    cooldown: false,
    options: {
      n: opt.integer({ description: "1 to 10", required: true, minValue: 1, maxValue: 10 }),
    },
    handler: (ctx) => ctx.reply(`n=${ctx.options.n * 2}`),
  }),
  defineCommand({
    name: "later",
    description: "Defers",
    category: "Test",
    cooldown: false,
    handler: (ctx) =>
      ctx.defer(async (f) => {
        await f.editOriginal("done later");
        await f.send("and a follow-up", true);
      }),
  }),
  defineCommand({
    name: "slow",
    description: "Slower than the deadline",
    category: "Test",
    cooldown: false,
    handler: async (ctx) => {
      await new Promise<void>((resolve) => releaseSlow = resolve);
      return ctx.reply("slow answer");
    },
  }),
];

const withApp = (fn: (t: TestApp) => Promise<void>): Promise<void> =>
  withTestApp({ commands: testCommands }, fn);

async function send(t: TestApp, payload: unknown) {
  const res = await t.post(payload);
  assert.deepStrictEqual(res.status, 200);
  return await res.json();
}

const isEphemeral = (r: { data?: { flags?: number } }) =>
  ((r.data?.flags ?? 0) & MessageFlags.Ephemeral) !== 0;

Deno.test("unknown command: ephemeral reply, logged with the interaction id, never 5xx", () =>
  withApp(async (t) => {
    const payload = commandInteraction("nope");
    const r = await send(t, payload);
    assert.deepStrictEqual(r.type, InteractionResponseType.ChannelMessageWithSource);
    assert.ok(isEphemeral(r));
    assert.match(r.data.content, /Unknown command `\/nope`/);
    assert.ok(t.log.lines.some((l) => l.msg === "unknown command" && l.interaction === payload.id));
  }));

Deno.test("a throwing handler: ephemeral reply with a reference, error logged with the id", () =>
  withApp(async (t) => {
    const payload = commandInteraction("boom");
    const r = await send(t, payload);
    assert.ok(isEphemeral(r));
    assert.ok(r.data.content.includes(payload.id), r.data.content);
    const line = t.log.lines.find((l) => l.msg === "interaction handler failed");
    assert.deepStrictEqual(line?.interaction, payload.id);
    assert.deepStrictEqual(line?.level, "error");
  }));

Deno.test("duplicate delivery: side effects once, the same response replayed", () =>
  withApp(async (t) => {
    const payload = commandInteraction("counter");
    const first = await send(t, payload);
    await t.settle(); // the response is recorded once it has been sent
    const second = await send(t, payload);
    assert.deepStrictEqual(await readCounter(t.deps.kv, counterKey), 1);
    assert.deepStrictEqual(first.data.content, "count 1");
    assert.deepStrictEqual(second, first);
    // A new interaction id is a new use; the old record expires after 15 minutes.
    assert.deepStrictEqual((await send(t, commandInteraction("counter"))).data.content, "count 2");
    // A duplicate arriving while the first is still being answered causes nothing either.
    const racing = commandInteraction("counter");
    const [a, b] = await Promise.all([send(t, racing), send(t, racing)]);
    assert.deepStrictEqual(await readCounter(t.deps.kv, counterKey), 3);
    assert.ok([a, b].some((r) => r.data.content === "This request is already being handled."));
    t.clock.advance(15 * 60_000 + 1);
    assert.deepStrictEqual((await send(t, payload)).data.content, "count 4");
  }));

Deno.test("missing permission is refused server-side and says what is missing", () =>
  withApp(async (t) => {
    const refused = await send(
      t,
      commandInteraction("guarded", [], { permissions: PermissionFlagsBits.SendMessages }),
    );
    assert.ok(isEphemeral(refused));
    assert.ok(refused.data.content.includes("**Manage Roles**"), refused.data.content);
    const ok = await send(
      t,
      commandInteraction("guarded", [], { permissions: PermissionFlagsBits.ManageRoles }),
    );
    assert.deepStrictEqual(ok.data.content, "allowed");
    const admin = await send(
      t,
      commandInteraction("guarded", [], { permissions: PermissionFlagsBits.Administrator }),
    );
    assert.deepStrictEqual(admin.data.content, "allowed");
  }));

Deno.test("the per-guild role allow-list limits restricted commands; admins always pass", () =>
  withApp(async (t) => {
    const role = "210000000000000001";
    await setAllowedRole(t.deps.kv, GUILD_ID, "guarded", role);
    const perms = PermissionFlagsBits.ManageRoles;
    const refused = await send(
      t,
      commandInteraction("guarded", [], { permissions: perms, roles: [] }),
    );
    assert.ok(refused.data.content.includes(`<@&${role}>`), refused.data.content);
    const ok = await send(
      t,
      commandInteraction("guarded", [], { permissions: perms, roles: [role] }),
    );
    assert.deepStrictEqual(ok.data.content, "allowed");
    const admin = await send(
      t,
      commandInteraction("guarded", [], { permissions: PermissionFlagsBits.Administrator }),
    );
    assert.deepStrictEqual(admin.data.content, "allowed");
    await setAllowedRole(t.deps.kv, GUILD_ID, "guarded", null);
    const cleared = await send(t, commandInteraction("guarded", [], { permissions: perms }));
    assert.deepStrictEqual(cleared.data.content, "allowed");
  }));

Deno.test("cooldown: 3 uses per 5 s, then the time left; a refusal spends no use", () =>
  withApp(async (t) => {
    for (let i = 0; i < 3; i++) {
      assert.deepStrictEqual((await send(t, commandInteraction("limited"))).data.content, "ok");
      t.clock.advance(1_000);
    }
    const refused = await send(t, commandInteraction("limited"));
    assert.match(refused.data.content, /again in 2\.0 s/);
    assert.match((await send(t, commandInteraction("limited"))).data.content, /again in 2\.0 s/);
    // Another user is not affected.
    const other = await send(
      t,
      commandInteraction("limited", [], { userId: "300000000000000002" }),
    );
    assert.deepStrictEqual(other.data.content, "ok");
    t.clock.advance(2_001);
    assert.deepStrictEqual((await send(t, commandInteraction("limited"))).data.content, "ok");
  }));

Deno.test("read-only command: a duplicate is answered again, counted once, and nothing is recorded", () =>
  withApp(async (t) => {
    const payload = commandInteraction("peek");
    const first = await send(t, payload);
    await t.settle();
    assert.deepStrictEqual(first.data.content, `peek by ${USER_ID}`);
    assert.deepStrictEqual(await send(t, payload), first);
    await t.settle();
    // No idempotency record for a read-only command...
    assert.deepStrictEqual((await Array.fromAsync(t.deps.kv.list({ prefix: ["idem"] }))).length, 0);
    // ...and the duplicate did not spend a use: two more fit the 3-per-5-s window.
    assert.deepStrictEqual(
      (await send(t, commandInteraction("peek"))).data.content,
      first.data.content,
    );
    assert.deepStrictEqual(
      (await send(t, commandInteraction("peek"))).data.content,
      first.data.content,
    );
    assert.match((await send(t, commandInteraction("peek"))).data.content, /Slow down/);
    // A duplicate of a counted use is still answered while the window is full.
    assert.deepStrictEqual(await send(t, payload), first);
  }));

Deno.test("option values are validated: out-of-range integers get a clear ephemeral error", () =>
  withApp(async (t) => {
    assert.deepStrictEqual(
      (await send(t, commandInteraction("num", rawOptions({ n: 4 })))).data.content,
      "n=8",
    );
    const bad = await send(t, commandInteraction("num", rawOptions({ n: 11 })));
    assert.ok(isEphemeral(bad));
    assert.match(bad.data.content, /Option `n`/);
    const missing = await send(t, commandInteraction("num", []));
    assert.match(missing.data.content, /Option `n` is required/);
    const wrongType = await send(t, commandInteraction("num", rawOptions({ n: "four" })));
    assert.match(wrongType.data.content, /Option `n`/);
  }));

Deno.test("signed custom IDs: valid routes, tampered and expired refused", () =>
  withApp(async (t) => {
    const r = await send(t, commandInteraction("counter"));
    const customId: string = r.data.components[0].components[0].custom_id;
    assert.ok(customId.length <= 100);
    const ok = await send(t, componentInteraction(customId));
    assert.deepStrictEqual(ok.type, InteractionResponseType.UpdateMessage);
    assert.deepStrictEqual(ok.data.content, "pressed with state 42");

    const [route, , expiry, sig] = customId.split("|");
    const tampered = await send(t, componentInteraction(`${route}|43|${expiry}|${sig}`));
    assert.ok(isEphemeral(tampered));
    assert.match(tampered.data.content, /expired/);
    assert.ok(t.log.lines.some((l) => l.msg === "tampered custom id"));

    const garbage = await send(t, componentInteraction("not-a-signed-id"));
    assert.match(garbage.data.content, /expired/);

    t.clock.advance(15 * 60_000 + 1_000);
    const expired = await send(t, componentInteraction(customId));
    assert.match(expired.data.content, /expired/);
  }));

Deno.test("components of a guarded command re-check permissions", () =>
  withApp(async (t) => {
    const id = await t.app.customIds.sign("guarded.act", "", 60_000, t.clock.now());
    const refused = await send(t, componentInteraction(id, { permissions: 0n }));
    assert.match(refused.data.content, /Manage Roles/);
    const ok = await send(
      t,
      componentInteraction(id, { permissions: PermissionFlagsBits.ManageRoles }),
    );
    assert.deepStrictEqual(ok.data.content, "acted");
  }));

Deno.test("deferred reply: type 5 now, then edit of the original and a follow-up", () =>
  withApp(async (t) => {
    const payload = commandInteraction("later");
    const r = await send(t, payload);
    assert.deepStrictEqual(r.type, InteractionResponseType.DeferredChannelMessageWithSource);
    assert.ok(isEphemeral(r));
    await t.settle();
    const webhookCalls = t.calls.filter((c) => c.path.startsWith("/webhooks/"));
    assert.deepStrictEqual(webhookCalls.map((c) => c.method), ["PATCH", "POST"]);
    assert.deepStrictEqual(
      webhookCalls[0].path,
      `/webhooks/${payload.application_id}/${payload.token}/messages/@original`,
    );
    assert.deepStrictEqual((webhookCalls[0].body as { content: string }).content, "done later");
    assert.deepStrictEqual(
      (webhookCalls[1].body as { flags: number }).flags,
      MessageFlags.Ephemeral,
    );
    // Interaction routes carry no bot token.
    assert.deepStrictEqual(webhookCalls[0].headers.get("authorization"), null);
  }));

Deno.test("deferred reply: a message Discord no longer has is a warning, not an error", async () => {
  // The interaction's webhook answers 404 (expired, deleted, or never acknowledged): nothing can
  // reach the member, and nothing is the bot's to fix.
  const gone = (_input: Request | URL | string, _init?: RequestInit) =>
    Promise.resolve(
      new Response(JSON.stringify({ message: "404: Not Found", code: 0 }), {
        status: 404,
        headers: { "content-type": "application/json" },
      }),
    );
  const rest = new RestClient({
    token: "bot-token-for-tests-0123456789",
    apiBase: "https://discord.test/api/v10",
    fetch: gone,
  });
  await withTestApp({ commands: testCommands, rest }, async (t) => {
    const r = await send(t, commandInteraction("later"));
    assert.deepStrictEqual(r.type, InteractionResponseType.DeferredChannelMessageWithSource);
    await t.settle();
    assert.deepStrictEqual(t.log.lines.filter((l) => l.level === "error"), []);
    assert.ok(
      t.log.lines.some((l) =>
        l.level === "warn" &&
        l.msg === "deferred reply not delivered: Discord has no message to edit"
      ),
    );
  });
  await rest.close();
});

Deno.test("a handler slower than the deadline is acknowledged in time and its answer edited in", () =>
  withApp(async (t) => {
    const pending = t.post(commandInteraction("slow"));
    // Let the handler start, then pass the 2.5 s deadline on the manual clock.
    while (!releaseSlow) await new Promise((r) => setTimeout(r, 1));
    t.clock.advance(2_500);
    const res = await pending;
    const r = await res.json();
    assert.deepStrictEqual(r.type, InteractionResponseType.DeferredChannelMessageWithSource);
    releaseSlow();
    await t.settle();
    const edit = t.calls.find((c) =>
      c.method === "PATCH" && c.path.endsWith("/messages/@original")
    );
    assert.deepStrictEqual((edit?.body as { content: string }).content, "slow answer");
  }));

Deno.test("KV failing: a clear 'temporarily degraded' ephemeral reply, not a timeout or 5xx", async () => {
  const kv = await Deno.openKv(":memory:");
  const t = await createTestApp({ commands: testCommands, kv });
  try {
    kv.close();
    const r = await send(t, commandInteraction("counter"));
    assert.ok(isEphemeral(r));
    assert.match(r.data.content, /temporarily degraded/);
    assert.ok(t.log.lines.some((l) => l.msg === "interaction gate unavailable"));
  } finally {
    await t.close();
  }
});
