/**
 * /ethos_setup through signed interactions against the emulator: view with sources, the
 * environment's values protected, map through select menus with every refusal (above the bot,
 * managed, @everyone, missing), create with plan, reuse, order and colours, a failed create that
 * a re-run finishes, verified none, log channel and schedule, reset, and permissions.
 */
import { ApplicationCommandOptionType, PermissionFlagsBits } from "discord-api-types/v10";
import assert from "node:assert/strict";
import { commandInteraction, componentInteraction, subcommand } from "../_harness.ts";
import { type Fixture, GUILD, startFixture } from "../backup/_fixture.ts";
import { getSetup, updateSetup } from "../../lib/guilds/setup.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { LEVEL_COLORS } from "../../lib/ethos/levels.ts";

let users = 0;
const ADMIN_BITS = PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ManageRoles;
/** A fresh admin per call keeps the cooldown out of the way. */
const admin = () => ({
  permissions: ADMIN_BITS,
  userId: String(360000000000000000n + BigInt(++users)),
});

const setupCmd = (name: string, values: Record<string, unknown> = {}, who = admin()) =>
  commandInteraction("ethos_setup", subcommand(name, values), who);

type Answer = Awaited<ReturnType<Fixture["bot"]["interact"]>>;
const text = (r: Answer) =>
  [r.response.data?.content ?? "", ...r.messages.map((m) => m.content)].join("\n");
const buttons = (r: Answer) =>
  [r.response.data, ...r.messages].flatMap((m) =>
    ((m as { components?: { components: { custom_id?: string; type: number }[] }[] })?.components ??
      []).flatMap((row) => row.components)
  );

async function withBot(fn: (fx: Fixture) => Promise<void>, env: Record<string, string> = {}) {
  const fx = await startFixture({ guilds: [{ members: 10 }] }, { env });
  try {
    await fn(fx);
  } finally {
    await fx.close();
  }
}

Deno.test("/ethos_setup view: each slot with its source; the environment's values are protected", () =>
  withBot(async (fx) => {
    const roles = fx.emu.state.guild(GUILD).ethosRoles!;
    const view = text(await fx.bot.interact(setupCmd("view")));
    assert.ok(view.includes(`Reputable: <@&${roles.reputable}> · _from the environment_`), view);
    assert.match(view, /Known: not set/);
    assert.ok(view.includes(`**Verified role:** <@&${roles.verified}>`), view);
    assert.match(view, /✅ Ready/);
    const none = text(await fx.bot.interact(setupCmd("verified")));
    assert.match(none, /The environment sets this for this server \(`VERIFIED_ROLE_ID`\)/);
    assert.deepStrictEqual(await getSetup(fx.bot.kv, GUILD), null, "nothing saved");
  }));

Deno.test("/ethos_setup map: select a slot, then a role; every bad role is refused with the fix", () =>
  withBot(async (fx) => {
    const g = fx.emu.state.guild(GUILD);
    const who = admin();
    const start = await fx.bot.interact(setupCmd("map", {}, who));
    const slotMenu = buttons(start)[0].custom_id!;
    const pick = await fx.bot.interact(
      componentInteraction(slotMenu, { ...who, values: ["known"] }),
    );
    assert.match(text(pick), /Pick the role for \*\*Known\*\*/);
    const roleMenu = buttons(pick)[0].custom_id!;
    const choose = async (roleId: string) =>
      text(await fx.bot.interact(componentInteraction(roleMenu, { ...who, values: [roleId] })));
    assert.match(await choose(g.aboveBotRole!), /drag the bot's role above \*\*Admin\*\*/);
    assert.match(await choose(g.managedRole!), /is managed by an integration/);
    assert.match(await choose(GUILD), /@everyone cannot be used here/);
    assert.match(await choose("799999999999999999"), /does not exist/);
    const good = fx.emu.state.addRole(GUILD, { name: "Known members" });
    const saved = await choose(good.id);
    assert.ok(saved.includes(`Saved: Known → <@&${good.id}>`), saved);
    assert.deepStrictEqual((await getSetup(fx.bot.kv, GUILD))!.roles.known, good.id);
    const audit = await readAudit(fx.bot.kv, GUILD, { limit: 5 });
    assert.deepStrictEqual(audit.entries[0].action, "setup.map");
    // A slot the environment sets is refused, naming the variable.
    const reputableMenu = buttons(
      await fx.bot.interact(componentInteraction(slotMenu, { ...who, values: ["reputable"] })),
    )[0].custom_id!;
    const env = text(
      await fx.bot.interact(componentInteraction(reputableMenu, { ...who, values: [good.id] })),
    );
    assert.match(env, /`ETHOS_ROLE_REPUTABLE`/);
  }));

Deno.test("/ethos_setup create: the plan, then the missing roles just below the bot, reused never duplicated", () =>
  withBot(async (fx) => {
    const g = fx.emu.state.guild(GUILD);
    // A role named as planned already exists: it is reused.
    const existing = fx.emu.state.addRole(GUILD, { name: "ethos known" });
    const who = admin();
    const plan = await fx.bot.interact(setupCmd("create", {}, who));
    const planText = text(plan);
    assert.ok(planText.includes(`Known: use the existing <@&${existing.id}>`), planText);
    assert.ok(planText.includes("Renowned: create **Ethos Renowned**"), planText);
    assert.match(planText, /Reputable: keep/);
    const before = g.roles.size;
    const confirm = buttons(plan).find((b) => b.type === 2)!.custom_id!;
    const done = text(await fx.bot.interact(componentInteraction(confirm, who)));
    // Five levels without a role (renowned, revered, distinguished, established... known reused),
    // validator and human; the profile role comes from the environment.
    assert.match(done, /✅ Created 6 and reused 1 roles\./);
    assert.deepStrictEqual(g.roles.size, before + 6);
    const setup = (await getSetup(fx.bot.kv, GUILD))!;
    assert.deepStrictEqual(setup.roles.known, existing.id);
    const renowned = g.roles.get(setup.roles.renowned!)!;
    assert.deepStrictEqual([renowned.name, renowned.color], [
      "Ethos Renowned",
      LEVEL_COLORS.renowned,
    ]);
    // In level order, just below the bot's highest role.
    const bot = g.roles.get(g.botRole!)!;
    const order = ["renowned", "revered", "distinguished"].map((l) =>
      g.roles.get(setup.roles[l as "renowned"]!)!.position
    );
    assert.ok(order[0] < bot.position && order[0] > order[1] && order[1] > order[2], String(order));
    // Clicking again, or running create again, makes nothing new.
    await fx.bot.interact(componentInteraction(confirm, who));
    assert.deepStrictEqual(g.roles.size, before + 6);
    assert.match(text(await fx.bot.interact(setupCmd("create"))), /Nothing to create/);
  }));

Deno.test("/ethos_setup create: a failure part way is recorded, and a re-run finishes the job", () =>
  withBot(async (fx) => {
    const g = fx.emu.state.guild(GUILD);
    // Fill the server up to two roles short of Discord's 250.
    const filler: string[] = [];
    while (g.roles.size < 248) filler.push(fx.emu.state.addRole(GUILD, { name: "filler" }).id);
    const who = admin();
    const plan = await fx.bot.interact(setupCmd("create", {}, who));
    const confirm = buttons(plan).find((b) => b.type === 2)!.custom_id!;
    const failed = text(await fx.bot.interact(componentInteraction(confirm, who)));
    assert.match(failed, /Stopped after creating 2 roles/);
    const partial = (await getSetup(fx.bot.kv, GUILD))!;
    assert.deepStrictEqual(partial.created.length, 2);
    for (const id of filler.slice(0, 10)) fx.emu.state.deleteRole(GUILD, id);
    const again = await fx.bot.interact(setupCmd("create", {}, who));
    const finish = buttons(again).find((b) => b.type === 2)!.custom_id!;
    assert.match(
      text(await fx.bot.interact(componentInteraction(finish, who))),
      /✅ Created 5 and reused 0 roles\./,
    );
    const names = [...g.roles.values()].map((r) => r.name).filter((n) => n.startsWith("Ethos "));
    assert.deepStrictEqual(names.length, new Set(names).size, "no duplicates");
    assert.deepStrictEqual((await getSetup(fx.bot.kv, GUILD))!.created.length, 7);
  }));

Deno.test("/ethos_setup create: without Manage Roles the bot says what to change", () =>
  withBot(async (fx) => {
    const g = fx.emu.state.guild(GUILD);
    g.roles.get(g.botRole!)!.permissions = "0";
    const r = text(await fx.bot.interact(setupCmd("create")));
    assert.ok(r.includes("lacks the **Manage Roles** permission"), r);
  }));

Deno.test("/ethos_setup log, schedule, reset; members without the permissions are refused", () =>
  withBot(async (fx) => {
    const channel = "510000000000000001";
    const log = (type: number) => {
      const i = setupCmd("log", {}) as unknown as { data: Record<string, unknown> };
      const sub = (i.data.options as { options: unknown[] }[])[0];
      sub.options = [{
        name: "channel",
        type: ApplicationCommandOptionType.Channel,
        value: channel,
      }];
      i.data.resolved = { channels: { [channel]: { id: channel, type } } };
      return i as unknown as ReturnType<typeof setupCmd>;
    };
    assert.match(text(await fx.bot.interact(log(2))), /Pick a text or announcement channel/);
    const logged = text(await fx.bot.interact(log(0)));
    assert.ok(logged.includes(`<#${channel}>`), logged);
    assert.deepStrictEqual((await getSetup(fx.bot.kv, GUILD))!.logChannelId, channel);
    await fx.bot.interact(setupCmd("schedule", { value: "hourly" }));
    assert.deepStrictEqual((await getSetup(fx.bot.kv, GUILD))!.schedule, "hourly");
    const who = admin();
    const ask = await fx.bot.interact(setupCmd("reset", {}, who));
    const confirm = buttons(ask).find((b) => b.type === 2)!.custom_id!;
    assert.match(text(await fx.bot.interact(componentInteraction(confirm, who))), /is forgotten/);
    const after = (await getSetup(fx.bot.kv, GUILD))!;
    assert.deepStrictEqual([after.logChannelId, after.schedule], [null, "daily"]);
    const denied = text(
      await fx.bot.interact(
        setupCmd("view", {}, {
          permissions: PermissionFlagsBits.ManageGuild,
          userId: "370000000000000001",
        }),
      ),
    );
    assert.match(denied, /Manage Roles/);
  }));

Deno.test("/ethos_setup view reactivates a server the bot had been removed from", () =>
  withBot(async (fx) => {
    await updateSetup(fx.bot.deps, GUILD, { id: "system" }, "inactive", (s) => ({
      ...s,
      active: false,
    }));
    const view = text(await fx.bot.interact(setupCmd("view")));
    assert.match(view, /The bot is back in this server/);
    assert.deepStrictEqual((await getSetup(fx.bot.kv, GUILD))!.active, true);
    const audit = await readAudit(fx.bot.kv, GUILD, { limit: 1 });
    assert.deepStrictEqual(audit.entries[0].action, "setup.reactivate");
  }));
