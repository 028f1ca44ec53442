/**
 * Requests an attacker can sign only with a valid custom ID or craft as a member: strings from the
 * request never select inherited properties, handlers only ever return responses, autocomplete
 * applies the command's gates, and malformed interactions are a 400 that reaches no handler.
 */
import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import assert from "node:assert/strict";
import {
  autocompleteInteraction,
  commandInteraction,
  componentInteraction,
  GUILD_ID,
  type TestApp,
  withTestApp,
} from "../_harness.ts";
import { type Command, defineCommand } from "../../lib/interactions/define.ts";
import { opt } from "../../lib/interactions/options.ts";
import type { Reply } from "../../lib/interactions/context.ts";
import { setAllowedRole } from "../../lib/interactions/permissions.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { BackupMeta } from "../../lib/backup/store.ts";

const SECRETS = {
  SYNC_AUTH_TOKEN: "sync-auth-token-hostile-0123456789",
  SIGNING_SECRET: "signing-secret-hostile-0123456789",
};

const withApp = (fn: (t: TestApp) => Promise<void>, commands?: Command[]): Promise<void> =>
  withTestApp({ env: SECRETS, commands }, fn);

/** Posts, and checks what must hold for any request: no 5xx, no secret, no error-level log. */
async function post(t: TestApp, payload: unknown): Promise<{ status: number; body: string }> {
  const res = await t.post(payload);
  const body = await res.text();
  assert.ok(res.status < 500, `${res.status} ${body}`);
  for (const secret of [...Object.values(SECRETS), t.deps.config.discord.token]) {
    assert.ok(!body.includes(secret), "a secret reached the response");
  }
  const errors = t.log.lines.filter((l) => l.level === "error");
  assert.deepStrictEqual(errors, [], "error-level log lines");
  return { status: res.status, body };
}

function modalInteraction(customId: string) {
  const base = componentInteraction(customId) as unknown as Record<string, unknown>;
  return {
    ...base,
    type: InteractionType.ModalSubmit,
    data: {
      custom_id: customId,
      components: [{
        type: 1,
        components: [{ type: 4, custom_id: "__proto__", value: "x" }],
      }],
    },
  };
}

const INHERITED = [
  "help.constructor",
  "help.toString",
  "help.__proto__",
  "help.hasOwnProperty",
  "help.valueOf",
  "audit.constructor",
  "backup.constructor",
  "privacy.__defineGetter__",
];

Deno.test("hostile: signed custom IDs naming inherited properties find no handler", () =>
  withApp(async (t) => {
    for (const route of INHERITED) {
      // Signed with the real key, as a leaked or replayed ID would be; sign() itself refuses
      // such routes, so the ID is assembled by hand.
      const body = `${route}||${Math.ceil(t.clock.now() / 1000 + 60).toString(36)}`;
      const id = `${body}|${await t.app.keys.customId.sign(body, 12)}`;
      assert.deepStrictEqual((await t.app.customIds.verify(id, t.clock.now())).ok, true);
      for (const payload of [componentInteraction(id), modalInteraction(id)]) {
        const { status, body } = await post(t, payload);
        assert.deepStrictEqual(status, 200, route);
        const r = JSON.parse(body);
        assert.deepStrictEqual(r.type, InteractionResponseType.ChannelMessageWithSource, route);
        assert.match(r.data.content, /expired/, route);
      }
    }
    // The real routes still work.
    const page = await t.app.customIds.sign(
      "help.page",
      `${"300000000000000001"}.0.0`,
      60_000,
      t.clock.now(),
    );
    const ok = JSON.parse((await post(t, componentInteraction(page))).body);
    assert.deepStrictEqual(ok.type, InteractionResponseType.UpdateMessage);
  }));

Deno.test("hostile: subcommand, group and option names from the request select nothing inherited", () =>
  withApp(async (t) => {
    const admin = { permissions: PermissionFlagsBits.Administrator };
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const asGroup = commandInteraction("backup", [{
        name,
        type: ApplicationCommandOptionType.SubcommandGroup,
        options: [{ name: "enable", type: ApplicationCommandOptionType.Subcommand, options: [] }],
      }], admin);
      const asSub = commandInteraction("backup", [{
        name,
        type: ApplicationCommandOptionType.Subcommand,
        options: [],
      }], admin);
      const inGroup = commandInteraction("backup", [{
        name: "schedule",
        type: ApplicationCommandOptionType.SubcommandGroup,
        options: [{ name, type: ApplicationCommandOptionType.Subcommand, options: [] }],
      }], admin);
      for (const payload of [asGroup, asSub, inGroup]) {
        const r = JSON.parse((await post(t, payload)).body);
        assert.match(r.data.content, /Unknown subcommand/, name);
        assert.ok((r.data.flags & MessageFlags.Ephemeral) !== 0);
      }
      const focused = autocompleteInteraction("backup", [{
        name: "view",
        type: ApplicationCommandOptionType.Subcommand,
        options: [{ name, type: ApplicationCommandOptionType.String, value: "", focused: true }],
      }], admin);
      const r = JSON.parse((await post(t, focused)).body);
      assert.deepStrictEqual(r, {
        type: InteractionResponseType.ApplicationCommandAutocompleteResult,
        data: { choices: [] },
      });
    }
  }));

const leaky = [
  defineCommand({
    name: "leaky",
    description: "Returns its context instead of a response",
    category: "Test",
    readOnly: true,
    cooldown: false,
    handler: (ctx) => ctx as unknown as Reply,
  }),
  defineCommand({
    name: "wrongtype",
    description: "Returns an object of an unknown response type",
    category: "Test",
    readOnly: true,
    cooldown: false,
    handler: (ctx) =>
      ({ type: 42, data: { content: ctx.deps.config.syncAuthToken } }) as unknown as Reply,
  }),
];

Deno.test("hostile: what a handler returns is serialised only when it is a response", () =>
  withApp(async (t) => {
    for (const name of ["leaky", "wrongtype"]) {
      const res = await t.post(commandInteraction(name));
      assert.deepStrictEqual(res.status, 200);
      const body = await res.text();
      assert.ok(!body.includes(SECRETS.SYNC_AUTH_TOKEN) && !body.includes(SECRETS.SIGNING_SECRET));
      const r = JSON.parse(body);
      assert.deepStrictEqual(r.type, InteractionResponseType.ChannelMessageWithSource);
      assert.match(r.data.content, /Something went wrong/);
      assert.ok(
        t.log.lines.some((l) => l.level === "error" && l.msg === "interaction handler failed"),
      );
      t.log.lines.length = 0;
    }
  }, leaky));

const suggesting = [
  defineCommand({
    name: "pick",
    description: "Guarded, with suggestions",
    category: "Test",
    permissions: ["ManageRoles"],
    cooldown: false,
    options: {
      thing: opt.string({
        description: "A thing",
        required: true,
        autocomplete: () => [{ name: "secret-label", value: "secret-id" }],
      }),
    },
    handler: (ctx) => ctx.ephemeral(`picked ${ctx.options.thing}`),
  }),
];

Deno.test("hostile: autocomplete applies the command's permission bits and role allow-list", () =>
  withApp(async (t) => {
    const ask = async (o: { permissions: bigint; roles?: string[] }) => {
      const r = JSON.parse(
        (await post(
          t,
          autocompleteInteraction("pick", [{
            name: "thing",
            type: ApplicationCommandOptionType.String,
            value: "",
            focused: true,
          }], o),
        )).body,
      );
      assert.deepStrictEqual(r.type, InteractionResponseType.ApplicationCommandAutocompleteResult);
      return r.data.choices.map((c: { value: string }) => c.value);
    };
    const perms = PermissionFlagsBits.ManageRoles;
    assert.deepStrictEqual(
      await ask({ permissions: 0n }),
      [],
      "no permission bits: no suggestions",
    );
    assert.deepStrictEqual(await ask({ permissions: perms }), ["secret-id"]);
    const role = "210000000000000009";
    await setAllowedRole(t.deps.kv, GUILD_ID, "pick", role);
    assert.deepStrictEqual(await ask({ permissions: perms }), [], "not on the allow-list");
    assert.deepStrictEqual(await ask({ permissions: perms, roles: [role] }), ["secret-id"]);
    assert.deepStrictEqual(await ask({ permissions: PermissionFlagsBits.Administrator }), [
      "secret-id",
    ]);
    const dm = autocompleteInteraction("pick", [{
      name: "thing",
      type: ApplicationCommandOptionType.String,
      value: "",
      focused: true,
    }], { guildId: null });
    const r = JSON.parse((await post(t, dm)).body);
    assert.deepStrictEqual(r.data.choices, [], "guild-only command outside a guild");
  }, suggesting));

Deno.test("hostile: /backup view suggestions are empty for a member without Administrator", () =>
  withApp(async (t) => {
    const meta: BackupMeta = {
      id: "bk1abc",
      guildId: GUILD_ID,
      label: "before the raid",
      authorId: "300000000000000009",
      authorName: "admin",
      source: "command",
      createdAt: t.clock.now(),
      completedAt: t.clock.now(),
      checksum: "0".repeat(64),
      sizeRaw: 1,
      sizeCompressed: 1,
      memberCount: 1,
      roleCount: 1,
      channelCount: 1,
      pinned: false,
      note: null,
      runId: null,
    };
    await t.deps.kv.set(keys.backupMeta(GUILD_ID, meta.id), meta);
    const focused = (permissions: bigint) =>
      autocompleteInteraction("backup", [{
        name: "view",
        type: ApplicationCommandOptionType.Subcommand,
        options: [{
          name: "id",
          type: ApplicationCommandOptionType.String,
          value: "",
          focused: true,
        }],
      }], { permissions });
    for (const permissions of [0n, PermissionFlagsBits.ManageGuild]) {
      const r = JSON.parse((await post(t, focused(permissions))).body);
      assert.deepStrictEqual(r.data.choices, []);
    }
    const admin = JSON.parse((await post(t, focused(PermissionFlagsBits.Administrator))).body);
    assert.deepStrictEqual(admin.data.choices.map((c: { value: string }) => c.value), ["bk1abc"]);
  }));

Deno.test("hostile: malformed interactions are a 400 and reach no handler", () =>
  withApp(async (t) => {
    const valid = commandInteraction("num") as unknown as Record<string, unknown>;
    const member = valid.member as Record<string, unknown>;
    const select = componentInteraction("help.category|x|zz|sig", { values: ["0"] }) as unknown as
      & Record<string, unknown>
      & { data: Record<string, unknown> };
    const cases: [string, unknown][] = [
      ["member without user", { ...valid, member: { ...member, user: undefined } }],
      ["permissions not decimal", { ...valid, member: { ...member, permissions: "0x8" } }],
      ["permissions a number", { ...valid, member: { ...member, permissions: 8 } }],
      ["roles not an array", { ...valid, member: { ...member, roles: "1" } }],
      ["options an object", {
        ...valid,
        data: { ...(valid.data as object), options: { n: 1 } },
      }],
      ["nested options an object", {
        ...valid,
        data: {
          ...(valid.data as object),
          options: [{ name: "x", type: 1, options: { a: 1 } }],
        },
      }],
      ["option without a name", {
        ...valid,
        data: { ...(valid.data as object), options: [{ type: 3, value: "v" }] },
      }],
      ["select without values", { ...select, data: { ...select.data, values: undefined } }],
      ["select values not strings", { ...select, data: { ...select.data, values: [1] } }],
      ["user without id", { ...valid, member: undefined, guild_id: undefined, user: {} }],
      ["guild id not a snowflake", { ...valid, guild_id: "abc" }],
    ];
    for (const [name, payload] of cases) {
      const { status, body } = await post(t, payload);
      assert.deepStrictEqual(status, 400, `${name}: ${body}`);
    }
    assert.deepStrictEqual(t.calls, [], "no handler ran (none called Discord)");
  }, [
    defineCommand({
      name: "num",
      description: "Takes a number",
      category: "Test",
      cooldown: false,
      options: { n: opt.integer({ description: "n", required: true }) },
      handler: () => {
        throw new Error("a handler ran for an invalid payload");
      },
    }),
  ]));
