/**
 * lib/backup/restore_live.ts: the live guild a restore plans against, read from Discord: its
 * settings, roles and channels as a backup holds them, its member count, and how high the bot's
 * own roles reach (the owner outranks every role).
 */
import assert from "node:assert/strict";
import { GUILD, withGuild } from "./_jobs.ts";
import { readLiveGuild } from "../../lib/backup/restore_live.ts";

Deno.test("readLiveGuild: settings, roles, channels and the member count as Discord has them", () =>
  withGuild({ members: 12, roles: 2, channels: 2 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    const live = await readLiveGuild(deps, GUILD);
    assert.equal(live.guildId, GUILD);
    assert.equal(live.approxMembers, g.members.size);
    assert.equal(live.guild.verification_level, g.settings.verification_level);
    assert.equal(live.guild.system_channel_id, g.systemChannelId);
    assert.deepStrictEqual(live.roles.map((r) => r.id).sort(), [...g.roles.keys()].sort());
    const everyone = live.roles.find((r) => r.id === GUILD)!;
    assert.deepStrictEqual([everyone.name, everyone.position], ["@everyone", 0]);
    assert.deepStrictEqual(
      live.channels.map((c) => c.name).sort(),
      [...g.channels.values()].map((c) => c.name).sort(),
    );
  }));

Deno.test("readLiveGuild: the bot's top role is the highest it holds", () =>
  withGuild({ members: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    const live = await readLiveGuild(deps, GUILD);
    const bot = g.roles.get(g.botRole!)!;
    assert.deepStrictEqual([live.botTopId, live.botTopPosition], [bot.id, bot.position]);
    assert.ok(live.roles.some((r) => r.position > bot.position), "a role above the bot's");
  }));

Deno.test("readLiveGuild: a bot without roles reaches @everyone; an owner bot reaches every role", () =>
  withGuild({ members: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    emu.state.setMemberRoles(GUILD, emu.botUserId, []);
    const bare = await readLiveGuild(deps, GUILD);
    assert.deepStrictEqual([bare.botTopId, bare.botTopPosition], [GUILD, 0]);

    g.ownerId = emu.botUserId;
    const owner = await readLiveGuild(deps, GUILD);
    assert.deepStrictEqual([owner.botTopId, owner.botTopPosition], ["0", Number.MAX_SAFE_INTEGER]);
  }));
