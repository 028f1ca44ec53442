import assert from "node:assert/strict";
import {
  assignableRoles,
  channelCreateBody,
  type LiveGuild,
  mapOverwrites,
  matchChannels,
  matchRoles,
  memberChange,
  missingRoles,
  orphanedChannels,
  planStructure,
  RESTORE_PARTS,
  roleMoves,
  settingsPatch,
} from "../../lib/backup/restore_plan.ts";
import type { SnapRole } from "../../lib/backup/model.ts";
import { sampleSnapshot } from "./_sample.ts";

const G = "200000000000000001";

function role(id: string, name: string, position: number, managed = false): SnapRole {
  return {
    id,
    name,
    color: 0,
    hoist: false,
    mentionable: false,
    permissions: "0",
    position,
    managed,
    unicode_emoji: null,
    icon: null,
  };
}

function liveOf(over: Partial<LiveGuild> = {}): LiveGuild {
  const s = sampleSnapshot();
  return {
    guildId: G,
    guild: { ...s.guild },
    roles: structuredClone(s.roles).concat([role("300000000000000099", "Bot", 5, true)]),
    channels: structuredClone(s.channels),
    botTopPosition: 5,
    botTopId: "300000000000000099",
    ...over,
  };
}

Deno.test("plan: nothing to do when the live guild matches the backup", () => {
  const plan = planStructure(sampleSnapshot(), liveOf(), {
    parts: [...RESTORE_PARTS],
    rewind: false,
  });
  assert.deepStrictEqual(plan.createRoles, []);
  assert.deepStrictEqual(plan.createCategories, []);
  assert.deepStrictEqual(plan.createChannels, []);
  assert.deepStrictEqual(plan.overwriteFixes, []);
  assert.deepStrictEqual(plan.settings, null);
  assert.deepStrictEqual(plan.reparent, 0);
});

Deno.test("plan: deleted roles and channels are created; a re-created copy is matched by name", () => {
  const s = sampleSnapshot();
  const live = liveOf();
  live.roles = live.roles.filter((r) => r.name !== "Mods");
  live.channels = live.channels.filter((c) => c.name !== "general");
  live.guild.verification_level = 0;
  const plan = planStructure(s, live, { parts: [...RESTORE_PARTS], rewind: false });
  assert.deepStrictEqual(plan.createRoles.map((r) => r.name), ["Mods"]);
  assert.deepStrictEqual(plan.createChannels.map((c) => c.name), ["general"]);
  assert.deepStrictEqual(plan.settings, { verification_level: 1 });
  // Only the parts asked for.
  const rolesOnly = planStructure(s, live, { parts: ["roles"], rewind: false });
  assert.deepStrictEqual(rolesOnly.createChannels, []);
  assert.deepStrictEqual(rolesOnly.settings, null);

  // A previous restore created "Mods" with a new id: matched, not created again.
  live.roles.push(role("300000000000000050", "Mods", 1));
  const map = matchRoles(s.roles, live);
  assert.deepStrictEqual(map.get("300000000000000002"), "300000000000000050");
  assert.deepStrictEqual(missingRoles(s, map), []);
  // Same for a channel of the same name, type and parent.
  live.channels.push({ ...s.channels[0], id: "400000000000000050", permission_overwrites: [] });
  assert.deepStrictEqual(matchChannels(s, live).get("400000000000000003"), "400000000000000050");
});

Deno.test("plan: overwrites are remapped to live role ids; unknown roles drop; members stay", () => {
  const map = new Map([["1", "11"], [G, G]]);
  const { mapped, dropped } = mapOverwrites([
    { id: "1", type: 0, allow: "1", deny: "0" },
    { id: "2", type: 0, allow: "1", deny: "0" },
    { id: "77", type: 1, allow: "1", deny: "0" },
    { id: G, type: 0, allow: "0", deny: "1" },
  ], map);
  assert.deepStrictEqual(mapped.map((o) => o.id), ["11", "77", G]);
  assert.deepStrictEqual(dropped, 1);
  const body = channelCreateBody(sampleSnapshot().channels[0], "999", mapped);
  assert.deepStrictEqual(body.parent_id, "999");
  assert.deepStrictEqual(body.topic, "hi");
  assert.deepStrictEqual((body.permission_overwrites as unknown[]).length, 3);
});

Deno.test("plan: created roles move just above their backed-up neighbour, below the bot", () => {
  const s = sampleSnapshot();
  s.roles.push(role("300000000000000003", "Top", 3));
  // Live after creating "Mods" (new id, placed at 1 by Discord) and with "Top" still there.
  const live = liveOf({
    roles: [
      role(G, "@everyone", 0),
      role("300000000000000060", "Mods", 1),
      role("300000000000000001", "Members", 2),
      role("300000000000000003", "Top", 3),
      role("300000000000000099", "Bot", 4, true),
    ],
    botTopPosition: 4,
  });
  const map = matchRoles(s.roles, live);
  const moves = roleMoves(s, live, map, new Set(["300000000000000060"]));
  // Backup order: Members(1) < Mods(2) < Top(3).
  assert.deepStrictEqual(moves, [
    { id: "300000000000000001", position: 1 },
    { id: "300000000000000060", position: 2 },
  ]);
  assert.deepStrictEqual(roleMoves(s, live, map, new Set()), []);
});

Deno.test("plan: member changes add missing assignable roles; rewind removes gained ones", () => {
  const live = liveOf();
  const assignable = assignableRoles(live);
  assert.deepStrictEqual([...assignable].sort(), ["300000000000000001", "300000000000000002"]);
  const map = new Map([["300000000000000001", "300000000000000001"], [
    "300000000000000002",
    "300000000000000002",
  ]]);
  const backedUp = { id: "9", roles: ["300000000000000001"] };
  const current = ["300000000000000002", "300000000000000099"];
  assert.deepStrictEqual(memberChange(backedUp, current, map, assignable, false), {
    add: ["300000000000000001"],
    remove: [],
  });
  // Rewind takes the gained "Mods", never the managed bot role.
  assert.deepStrictEqual(memberChange(backedUp, current, map, assignable, true), {
    add: ["300000000000000001"],
    remove: ["300000000000000002"],
  });
});

Deno.test("plan: settings patch maps channel settings; orphaned channels go back", () => {
  const s = sampleSnapshot();
  const live = liveOf();
  live.guild.system_channel_id = null;
  live.guild.afk_timeout = 60;
  const channelMap = matchChannels(s, live);
  assert.deepStrictEqual(settingsPatch(s.guild, live.guild, channelMap), {
    afk_timeout: 300,
    system_channel_id: "400000000000000003",
  });
  live.channels = live.channels.map((c) => c.name === "Text" ? c : { ...c, parent_id: null });
  assert.deepStrictEqual(
    orphanedChannels(s, live, matchChannels(s, live)).map((o) => [o.channel.name, o.parentLiveId]),
    [["general", "400000000000000001"]],
  );
});
