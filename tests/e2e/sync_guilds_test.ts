/**
 * Several guilds from one deployment: a second guild configured through its stored setup (no
 * environment) syncs through POST /trigger-sync {guildId}, reports through ?guild=, continues its
 * chunks to the right guild, is synced by the scheduled runs next to the environment's guild, and
 * /ethos_sync in a guild syncs that guild.
 */
import { PermissionFlagsBits } from "discord-api-types/v10";
import assert from "node:assert/strict";
import { GUILD, outOfSync, startFixture, TOKEN } from "./sync_helpers.ts";
import { pollUntil } from "../_bot.ts";
import { getSetup, updateSetup } from "../../lib/guilds/setup.ts";
import { mapEmulatedGuild } from "../emulator/bot_env.ts";
import { dailySync } from "../../lib/sync/service.ts";
import { commandInteraction } from "../_harness.ts";
import { collectStatus } from "../../lib/status/data.ts";
import { renderMain } from "../../lib/status/html.ts";

const SECOND = "200000000000000002";

async function twoGuilds(env: Record<string, string> = {}) {
  const fx = await startFixture({
    uniformRate: 300,
    guilds: [{ members: 60 }, { id: SECOND, members: 120 }],
  }, { env: { SYNC_CHUNK_SIZE: "1000", ...env } });
  // The second guild is set up from Discord: its own roles, nothing from the environment.
  await mapEmulatedGuild(fx.bot.deps, SECOND, fx.emu.state.guild(SECOND).ethosRoles!);
  return fx;
}

Deno.test("guilds e2e: a guild set up in Discord syncs by its own setup, status and stop by ?guild=", async () => {
  const f = await twoGuilds();
  try {
    assert.ok(outOfSync(f.emu, SECOND).length > 0);
    const before = outOfSync(f.emu, GUILD).length;
    const r = await f.bot.trigger({ guildId: SECOND }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed", JSON.stringify(r.body));
    assert.deepStrictEqual(outOfSync(f.emu, SECOND), []);
    assert.deepStrictEqual(outOfSync(f.emu, GUILD).length, before, "the other guild is untouched");
    const status = await (await f.bot.request("GET", `/sync-status?guild=${SECOND}`)).json();
    assert.deepStrictEqual([status.guildId, status.state], [SECOND, "completed"]);
    const bad = await f.bot.request("GET", "/sync-status?guild=abc");
    assert.deepStrictEqual(bad.status, 400);
    await bad.body?.cancel();
    // A guild with no setup at all: a clear 400.
    const none = await f.bot.request("POST", "/trigger-sync", { guildId: "200000000000000009" });
    assert.deepStrictEqual(none.status, 400);
    assert.ok((await none.json()).error.includes("/ethos_setup"));
  } finally {
    await f.close();
  }
});

Deno.test("guilds e2e: chained chunks of another guild continue that guild", async () => {
  const f = await twoGuilds({ SYNC_CHUNK_SIZE: "30", AUTO_CONTINUE_CHUNKS: "true" });
  try {
    const r = await f.bot.request("POST", "/trigger-sync", { guildId: SECOND });
    assert.deepStrictEqual(r.status, 202);
    await r.body?.cancel();
    const done = await pollUntil(
      async () => await (await f.bot.request("GET", `/sync-status?guild=${SECOND}`)).json(),
      (s) => s.state === "completed" || s.state === "failed",
      30_000,
      50,
      (last) => new Error(`not done: ${JSON.stringify(last)}`),
    );
    assert.deepStrictEqual(done.state, "completed", JSON.stringify(done));
    assert.ok(done.chunk >= 4, `chunks ${done.chunk}`);
    assert.deepStrictEqual(outOfSync(f.emu, SECOND), []);
    const first = await (await f.bot.request("GET", `/sync-status?guild=${GUILD}`)).json();
    assert.deepStrictEqual(first.state, "idle", "no run was started in the environment's guild");
  } finally {
    await f.close();
  }
});

Deno.test("guilds e2e: the scheduled run syncs every configured guild; /ethos_sync syncs its own", async () => {
  const f = await twoGuilds();
  try {
    await dailySync(f.bot.deps);
    await f.bot.settle();
    assert.deepStrictEqual(outOfSync(f.emu, GUILD), []);
    assert.deepStrictEqual(outOfSync(f.emu, SECOND), []);
    // A guild whose schedule is off is left to its admins.
    await updateSetup(
      f.bot.deps,
      SECOND,
      { id: "1" },
      "schedule",
      (s) => ({ ...s, schedule: "off" }),
    );
    const member = [...f.emu.state.guild(SECOND).members.values()].find((m) =>
      !m.bot && m.roles.includes(f.emu.state.guild(SECOND).ethosRoles!.verified) &&
      f.emu.state.score(m.id) !== undefined
    )!;
    f.emu.state.setScore(member.id, f.emu.state.score(member.id)! > 1500 ? 100 : 2700);
    await f.bot.deps.kv.delete(["cache", "ethos_score", member.id]);
    await dailySync(f.bot.deps);
    await f.bot.settle();
    assert.deepStrictEqual(outOfSync(f.emu, SECOND).length, 1);
    const cronRun =
      (await (await f.bot.request("GET", `/sync-status?guild=${SECOND}`)).json()).runId;
    // /ethos_sync in that guild syncs that guild.
    const answer = await f.bot.interact(
      commandInteraction("ethos_sync", [], {
        guildId: SECOND,
        permissions: PermissionFlagsBits.ManageRoles,
      }) as unknown as { id: string; token: string },
    );
    assert.ok(answer.type === 5 || answer.type === 4, JSON.stringify(answer));
    await pollUntil(
      async () => await (await f.bot.request("GET", `/sync-status?guild=${SECOND}`)).json(),
      (s) => s.state === "completed" && s.runId !== cronRun,
      30_000,
      50,
      (last) => new Error(`not done: ${JSON.stringify(last)}`),
    );
    assert.deepStrictEqual(outOfSync(f.emu, SECOND), []);
  } finally {
    await f.close();
  }
});

const CLI = new URL("../../sync-helper.ts", import.meta.url).pathname;

Deno.test("guilds e2e: sync-helper complete --all runs every guild; --guild picks one", async () => {
  const f = await twoGuilds();
  try {
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net", "--allow-env", CLI, ...args, "--url", f.bot.url],
        env: { NO_COLOR: "1", SYNC_URL: "", SYNC_AUTH_TOKEN: TOKEN },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
    };
    const all = await run(["complete", "--all", "--poll-ms", "100"]);
    assert.deepStrictEqual(all.code, 0, all.text);
    assert.ok(
      all.text.includes(`[${GUILD}] run `) && all.text.includes(`[${SECOND}] run `),
      all.text,
    );
    assert.ok(all.text.includes("every guild completed"), all.text);
    assert.deepStrictEqual(outOfSync(f.emu, GUILD), []);
    assert.deepStrictEqual(outOfSync(f.emu, SECOND), []);
    const one = await run(["status", "--guild", SECOND, "--json"]);
    assert.deepStrictEqual(one.code, 0, one.text);
    assert.deepStrictEqual(JSON.parse(one.text).guildId, SECOND);
    const bad = await run(["complete", "--all", "--guild", SECOND]);
    assert.deepStrictEqual(bad.code, 2);
  } finally {
    await f.close();
  }
});

Deno.test("guilds e2e: a guild the bot left is marked inactive, alerted once, and its syncs stop", async () => {
  const f = await twoGuilds();
  try {
    // The bot is removed from the second server: Discord now answers Unknown Guild.
    f.emu.state.guilds.delete(SECOND);
    const r = await f.bot.trigger({ guildId: SECOND }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "failed", JSON.stringify(r.body));
    const setup = (await getSetup(f.bot.kv, SECOND))!;
    assert.deepStrictEqual(setup.active, false);
    const alerts = [];
    for await (const e of f.bot.kv.list({ prefix: ["alerts"] })) alerts.push(e.value);
    assert.deepStrictEqual(
      alerts.filter((a) =>
        String((a as { cause: string }).cause).startsWith(`guild_gone:${SECOND}`)
      )
        .length,
      1,
    );
    // No more syncs: refused over HTTP, skipped by the crons, not listed.
    const again = await f.bot.request("POST", "/trigger-sync", { guildId: SECOND });
    assert.deepStrictEqual(again.status, 400);
    assert.ok((await again.json()).error.includes("removed from this server"));
    const guilds = await (await f.bot.request("GET", "/guilds")).json();
    assert.deepStrictEqual(guilds.guilds.map((g: { guildId: string }) => g.guildId), [GUILD]);
    await dailySync(f.bot.deps);
    await f.bot.settle();
    assert.deepStrictEqual(outOfSync(f.emu, GUILD), [], "the other guild still syncs");
  } finally {
    await f.close();
  }
});

Deno.test("guilds e2e: one summary per run in the log channel; a deleted channel never fails the run", async () => {
  const f = await twoGuilds();
  try {
    const g = f.emu.state.guild(SECOND);
    const channel = g.systemChannelId!;
    await updateSetup(
      f.bot.deps,
      SECOND,
      { id: "1" },
      "log",
      (s) => ({ ...s, logChannelId: channel }),
    );
    const r = await f.bot.trigger({ guildId: SECOND }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed");
    const posted = f.emu.state.channelMessages(channel);
    assert.deepStrictEqual(posted.length, 1, "one message per run, never one per member");
    const text = String(posted[0].content);
    assert.ok(text.startsWith("**Ethos role sync finished**"), text);
    assert.ok(/changed \d+/.test(text) && text.includes("By level:"), text);
    const named = text.split("\n").filter((l) => l.startsWith("- <@")).length;
    assert.ok(named > 0 && named <= 20, `${named} members named`);
    // The channel is deleted: the next run completes all the same, and says why in the log.
    f.emu.state.deleteChannel(channel);
    f.emu.state.setScore([...g.members.values()][5].id, 2700);
    const again = await f.bot.trigger({ guildId: SECOND, startIndex: 0 }, "?wait=true");
    assert.deepStrictEqual(again.body.state, "completed");
    assert.ok(
      f.bot.log.lines.some((l) => String(l.msg).includes("could not post the run summary")),
    );
  } finally {
    await f.close();
  }
});

Deno.test("guilds e2e: the status page has a section per guild with its level distribution", async () => {
  const f = await twoGuilds();
  try {
    await f.bot.trigger({ guildId: SECOND }, "?wait=true");
    const data = await collectStatus(f.bot.app);
    assert.ok(data.guilds.ok, JSON.stringify(data.guilds));
    const byId = new Map(data.guilds.value.guilds.map((g) => [g.guildId, g]));
    assert.deepStrictEqual([...byId.keys()], [GUILD, SECOND]);
    const second = byId.get(SECOND)!;
    assert.deepStrictEqual([second.state, second.configured, second.fromEnvironment], [
      "completed",
      true,
      false,
    ]);
    assert.ok(second.levels.length > 0 && second.levels.every((l) => l.members > 0));
    assert.deepStrictEqual(byId.get(GUILD)!.state, "idle");
    const html = renderMain(data);
    assert.ok(html.includes(`<h3>Guild ${SECOND}</h3>`), "a section for the guild");
    assert.ok(html.includes(`<h3>Guild ${GUILD} (environment)</h3>`));
    const svg = html.slice(html.indexOf(`id="guild-${SECOND}-levels"`));
    assert.deepStrictEqual(
      (svg.slice(0, svg.indexOf("</svg>")).match(/<rect /g) ?? []).length,
      second.levels.length,
      "one bar per level",
    );
  } finally {
    await f.close();
  }
});
