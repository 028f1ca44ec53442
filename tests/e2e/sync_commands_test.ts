/**
 * The role sync's slash commands end to end: signed interactions into the bot, Discord calls
 * into the emulator (members, roles, and the interaction webhook for deferred replies).
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { commandInteraction, componentInteraction, rawOptions } from "../_harness.ts";
import { GUILD, outOfSync, startFixture } from "./sync_helpers.ts";
import { setFlag } from "../../lib/ops/flags.ts";

const MANAGE_ROLES = PermissionFlagsBits.ManageRoles;

type Resp = {
  type: number;
  data?: {
    content?: string;
    flags?: number;
    embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
    components?: { components: { custom_id: string; label: string; disabled?: boolean }[] }[];
  };
};

Deno.test("commands e2e: /ethos_sync starts a run, /ethos_sync_status shows it, buttons refresh and stop", async () => {
  const fx = await startFixture({
    guilds: [{ members: 200 }],
    limits: { memberPatch: { limit: 2, windowMs: 200 }, memberRole: { limit: 2, windowMs: 200 } },
  }, { env: { SYNC_CHUNK_SIZE: "1000" } });
  try {
    const { emu, bot } = fx;
    // Without Manage Roles: refused, nothing started.
    const refused = await bot.interact(commandInteraction("ethos_sync")) as Resp;
    assert.deepStrictEqual(refused.type, 4);
    assert.match(refused.data!.content!, /Manage Roles/);
    assert.deepStrictEqual((await bot.status()).state, "idle");

    const cmd = commandInteraction("ethos_sync", [], { permissions: MANAGE_ROLES });
    const started = await bot.interact(cmd) as Resp;
    assert.deepStrictEqual(started.type, 5); // deferred
    assert.deepStrictEqual(started.data!.flags, 64); // ephemeral
    await bot.waitFor((p) => p.state === "running");
    // The follow-up (edit of the deferred original) names the run.
    let original = "";
    for (let i = 0; i < 100 && !original.includes("Started"); i++) {
      original = emu.state.webhookMessages(cmd.token)[0]?.content ?? "";
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(original, /Started/);
    assert.match(original, /\/ethos_sync_status/);

    // A second /ethos_sync while the chunk runs: told so, nothing new started.
    const twice = commandInteraction("ethos_sync", [], { permissions: MANAGE_ROLES });
    await bot.interact(twice);
    for (let i = 0; i < 100 && !original.includes("already running"); i++) {
      original = emu.state.webhookMessages(twice.token)[0]?.content ?? "";
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(original, /already running/);

    const status = await bot.interact(commandInteraction("ethos_sync_status")) as Resp;
    assert.deepStrictEqual(status.type, 4);
    const embed = status.data!.embeds![0];
    assert.match(embed.title!, /Ethos role sync/);
    assert.match(embed.description!, /Running/);
    assert.ok(embed.fields!.some((f) => f.name === "Progress" && f.value.includes("members")));
    assert.ok(embed.fields!.some((f) => f.name === "ETA"));
    const [refresh, stop] = status.data!.components![0].components;
    assert.deepStrictEqual([refresh.label, stop.label], ["Refresh", "Stop"]);

    const refreshed = await bot.interact(componentInteraction(refresh.custom_id)) as Resp;
    assert.deepStrictEqual(refreshed.type, 7); // update message
    // Stop needs Manage Roles.
    const noPerm = await bot.interact(componentInteraction(stop.custom_id)) as Resp;
    assert.match(noPerm.data!.content!, /Manage Roles/);
    const stopped = await bot.interact(
      componentInteraction(stop.custom_id, { permissions: MANAGE_ROLES }),
    ) as Resp;
    assert.deepStrictEqual(stopped.type, 7);
    assert.match(stopped.data!.embeds![0].description!, /Stop requested/);
    await bot.waitFor((p) => p.state === "stopped");

    // /ethos_sync continues the stopped run to the end.
    await bot.interact(commandInteraction("ethos_sync", [], { permissions: MANAGE_ROLES }));
    await bot.waitFor(undefined, 60_000);
    await bot.settle();
    assert.deepStrictEqual(outOfSync(emu), []);
  } finally {
    await fx.close();
  }
});

Deno.test("commands e2e: /ethos_sync_stop and a dry run from Discord", async () => {
  const fx = await startFixture({ guilds: [{ members: 120 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  try {
    const { emu, bot } = fx;
    const none = await bot.interact(
      commandInteraction("ethos_sync_stop", [], { permissions: MANAGE_ROLES }),
    ) as Resp;
    assert.match(none.data!.content!, /Nothing to stop/);
    await bot.interact(
      commandInteraction("ethos_sync", rawOptions({ dry_run: true }), {
        permissions: MANAGE_ROLES,
      }),
    );
    const done = await bot.waitFor();
    await bot.settle();
    assert.deepStrictEqual(done.dryRun, true);
    assert.ok((done.counters["changed"] ?? 0) > 0);
    assert.deepStrictEqual(emu.stats.writes.length, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("commands e2e: /ethos_refresh syncs the caller's own roles, with a cooldown", async () => {
  const fx = await startFixture({ guilds: [{ members: 80 }] });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);
    const roles = g.ethosRoles!;
    const user = [...g.members.values()].find((m) => !m.bot && m.id !== g.ownerId)!;
    emu.state.setMemberRoles(GUILD, user.id, [roles.verified, roles.untrusted, g.extraRoles[0]]);
    emu.state.setScore(user.id, 2150);
    const cmd = commandInteraction("ethos_refresh", [], { userId: user.id });
    const r = await bot.interact(cmd) as Resp;
    assert.deepStrictEqual(r.type, 5);
    await bot.settle();
    assert.deepStrictEqual(
      emu.state.memberRoles(GUILD, user.id)!.sort(),
      [roles.verified, roles.exemplary, roles.profile, g.extraRoles[0]].sort(),
    );
    const msg = emu.state.webhookMessages(cmd.token)[0].content;
    assert.match(msg, /2150/);
    assert.match(msg, /Roles updated/);
    // One write: a PATCH (three changes) from the fresh read.
    assert.deepStrictEqual(emu.stats.writes.length, 1);
    // Cooldown: a second use within the minute is refused.
    const again = await bot.interact(
      commandInteraction("ethos_refresh", [], { userId: user.id }),
    ) as Resp;
    assert.deepStrictEqual(again.type, 4);
    assert.ok(/again|wait|cooldown|slow/i.test(again.data!.content!), again.data!.content);
    // Another member, already in sync: no write.
    const other = [...g.members.values()].find((m) =>
      !m.bot && m.id !== user.id && !m.roles.includes(roles.verified)
    )!;
    emu.state.setMemberRoles(GUILD, other.id, []);
    const o = commandInteraction("ethos_refresh", [], { userId: other.id });
    await bot.interact(o);
    await bot.settle();
    assert.deepStrictEqual(emu.stats.writes.length, 1);
    assert.match(emu.state.webhookMessages(o.token)[0].content, /verified role/);
    // The feature flag turns it off.
    await setFlag(bot.kv, GUILD, "self_refresh", false);
    const off = await bot.interact(
      commandInteraction("ethos_refresh", [], { userId: g.ownerId }),
    ) as Resp;
    assert.match(off.data!.content!, /turned off/);
  } finally {
    await fx.close();
  }
});

Deno.test("commands e2e: /ethos_refresh with the Ethos API failing: a clear reply, no role removed", async () => {
  const fx = await startFixture({ guilds: [{ members: 40 }] });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);
    const roles = g.ethosRoles!;
    const user = [...g.members.values()].find((m) => !m.bot && m.id !== g.ownerId)!;
    const held = [roles.verified, roles.reputable, roles.profile];
    emu.state.setMemberRoles(GUILD, user.id, held);
    emu.state.setScore(user.id, 900); // would mean a different tier, if Ethos answered
    emu.state.ethos.failing = true;
    const cmd = commandInteraction("ethos_refresh", [], { userId: user.id });
    const r = await bot.interact(cmd) as Resp;
    assert.deepStrictEqual(r.type, 5, "acknowledged within Discord's 3 s, answered by follow-up");
    await bot.settle();
    assert.match(emu.state.webhookMessages(cmd.token)[0].content, /Ethos is not answering/);
    assert.deepStrictEqual(emu.state.memberRoles(GUILD, user.id)!.sort(), held.sort());
    assert.deepStrictEqual(emu.stats.writes.length, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("commands e2e: the role_sync flag turns the sync off everywhere", async () => {
  const fx = await startFixture({ guilds: [{ members: 30 }] });
  try {
    const { bot, emu } = fx;
    await setFlag(bot.kv, GUILD, "role_sync", false);
    const r = await bot.trigger({});
    assert.deepStrictEqual(r.status, 403);
    const cmd = commandInteraction("ethos_sync", [], { permissions: MANAGE_ROLES });
    await bot.interact(cmd);
    await bot.settle();
    assert.match(emu.state.webhookMessages(cmd.token)[0].content, /turned off/);
    assert.deepStrictEqual(emu.stats.writes.length, 0);
  } finally {
    await fx.close();
  }
});
