/**
 * lib/guilds/create.ts: /ethos_setup create's plan (keep, reuse by name, create; what blocks it)
 * and its execution: roles made with the level's name and colour, recorded one by one, moved
 * below the bot in level order, and a refusal part way that leaves a record a re-run finishes.
 */
import assert from "node:assert/strict";
import { CREATE_SLOTS, executeCreate, planCreate, plannedName } from "../../lib/guilds/create.ts";
import { effectiveSetup, getSetup, updateSetup } from "../../lib/guilds/setup.ts";
import { LEVEL_COLORS } from "../../lib/ethos/levels.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { ManualClock } from "../_clock.ts";
import { json } from "../discord/_fake_discord.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { everyone, GUILD, guildDiscord, MANAGE, role, serverOf } from "./_roles.ts";

const ADMIN = { id: "300000000000000001", name: "Ann" };
/** The badges' colours (the levels' are LEVEL_COLORS). */
const BADGE_COLORS: Record<string, number> = {
  validator: 0x16a085,
  human: 0x2980b9,
  profile: 0x7f8c8d,
};

Deno.test("CREATE_SLOTS and plannedName: highest level first, then the badges", () => {
  assert.deepEqual(CREATE_SLOTS, [
    "renowned",
    "revered",
    "distinguished",
    "exemplary",
    "reputable",
    "established",
    "known",
    "neutral",
    "questionable",
    "untrusted",
    "validator",
    "human",
    "profile",
  ]);
  assert.equal(plannedName("known"), "Ethos Known");
  assert.equal(plannedName("validator"), "Ethos Validator");
  assert.equal(plannedName("human"), "Ethos Human Verified");
  assert.equal(plannedName("profile"), "Ethos Profile");
});

Deno.test("planCreate: keeps a mapped role, reuses one by name (any case), creates the rest", () =>
  withKv(async (kv) => {
    const bot = role("Bot", 10, { permissions: MANAGE });
    const mapped = role("Our renowned", 3);
    const named = role("ethos KNOWN", 2);
    const highNamed = role("Ethos Validator", 11);
    const roles = [everyone(), mapped, named, bot, highNamed];
    const deps = memoryDeps(kv);
    await updateSetup(deps, GUILD, ADMIN, "map", (s) => {
      s.roles.renowned = mapped.id;
      s.roles.revered = "799999999999999999"; // deleted since
      return s;
    });
    const setup = effectiveSetup(deps.config, GUILD, await getSetup(kv, GUILD));
    const plan = planCreate(serverOf(roles, [bot.id]), GUILD, setup);
    assert.equal(plan.blocker, null);
    const bySlot = Object.fromEntries(plan.items.map((i) => [i.slot, i]));
    assert.deepEqual(bySlot.renowned, {
      slot: "renowned",
      name: "Ethos Renowned",
      action: "keep",
      roleId: mapped.id,
      problem: undefined,
    });
    assert.deepEqual(bySlot.known, {
      slot: "known",
      name: "Ethos Known",
      action: "reuse",
      roleId: named.id,
      problem: undefined,
    });
    assert.deepEqual(bySlot.validator, {
      slot: "validator",
      name: "Ethos Validator",
      action: "reuse",
      roleId: highNamed.id,
      problem: "above_bot",
    });
    assert.deepEqual(bySlot.revered, { slot: "revered", name: "Ethos Revered", action: "create" });
    assert.deepEqual(plan.items.map((i) => i.slot), CREATE_SLOTS);
    assert.equal(plan.items.filter((i) => i.action === "create").length, 10);
  }));

Deno.test("planCreate: no Manage Roles, or no role of the bot's own, blocks the plan", () =>
  withKv((kv) => {
    const setup = effectiveSetup(memoryDeps(kv).config, GUILD, null);
    const weak = role("Bot", 3);
    assert.equal(
      planCreate(serverOf([everyone(), weak], [weak.id]), GUILD, setup).blocker,
      "no_manage_roles",
    );
    const all = everyone();
    all.permissions = MANAGE;
    assert.equal(planCreate(serverOf([all], []), GUILD, setup).blocker, "bot_has_no_role");
    return Promise.resolve();
  }));

Deno.test("executeCreate: creates with name and colour, records each, moves them below the bot", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const bot = role("Bot", 20, { permissions: MANAGE });
    const named = role("Ethos Known", 2);
    const roles = [everyone(), named, bot];
    const discord = guildDiscord(clock, { roles, botRoles: [bot.id] });
    const deps = memoryDeps(kv, { fetch: discord.fetch, clock });
    const server = serverOf(roles, [bot.id]);
    const plan = planCreate(server, GUILD, effectiveSetup(deps.config, GUILD, null));
    const result = await executeCreate(deps, GUILD, ADMIN, server, plan);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.reused.map((i) => [i.slot, i.roleId]), [["known", named.id]]);
    assert.equal(result.created.length, 12);

    const posts = discord.callsTo(/^POST /);
    assert.deepEqual(
      posts.map((c) => JSON.parse(c.body!)),
      result.created.map((i) => ({
        name: i.name,
        color: LEVEL_COLORS[i.slot as keyof typeof LEVEL_COLORS] ?? BADGE_COLORS[i.slot],
        permissions: "0",
        hoist: false,
        mentionable: false,
      })),
    );
    assert.equal(
      decodeURIComponent(posts[0].headers.get("x-audit-log-reason")!),
      "Ethos setup by Ann",
    );

    const [reorder] = discord.callsTo(/^PATCH /);
    assert.deepEqual(
      JSON.parse(reorder.body!),
      result.created.map((i, n) => ({ id: i.roleId, position: 19 - n })),
    );

    const stored = (await getSetup(kv, GUILD))!;
    assert.equal(stored.roles.known, named.id);
    for (const i of result.created) assert.equal(stored.roles[i.slot], i.roleId);
    assert.deepEqual(stored.created, result.created.map((i) => i.roleId));
    const audit = await readAudit(kv, GUILD, { limit: 20 });
    assert.deepEqual(
      audit.entries.map((e) => e.action).reverse(),
      [
        ...CREATE_SLOTS.slice(0, 6).map(() => "setup.create_role"),
        "setup.reuse_role",
        ...CREATE_SLOTS.slice(7).map(() => "setup.create_role"),
      ],
    );
  }));

Deno.test("executeCreate: positions never go below 1 when the bot sits low", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const bot = role("Bot", 3, { permissions: MANAGE });
    const roles = [everyone(), bot];
    const discord = guildDiscord(clock, { roles, botRoles: [bot.id] });
    const deps = memoryDeps(kv, { fetch: discord.fetch, clock });
    const server = serverOf(roles, [bot.id]);
    const plan = planCreate(server, GUILD, effectiveSetup(deps.config, GUILD, null));
    await executeCreate(deps, GUILD, ADMIN, server, plan);
    const positions = JSON.parse(discord.callsTo(/^PATCH /)[0].body!).map(
      (p: { position: number }) => p.position,
    );
    assert.deepEqual(positions, [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  }));

Deno.test("executeCreate: a refusal part way keeps what was made; a re-run finishes the job", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const bot = role("Bot", 20, { permissions: MANAGE });
    const roles = [everyone(), bot];
    let refuseFrom = 3;
    const discord = guildDiscord(clock, {
      roles,
      botRoles: [bot.id],
      refuse: (_call, created) =>
        created >= refuseFrom
          ? json(403, { message: "Maximum number of guild roles reached (250)", code: 30005 })
          : undefined,
    });
    const deps = memoryDeps(kv, { fetch: discord.fetch, clock });
    const server = serverOf(roles, [bot.id]);
    const first = await executeCreate(
      deps,
      GUILD,
      ADMIN,
      server,
      planCreate(server, GUILD, effectiveSetup(deps.config, GUILD, null)),
    );
    assert.match(first.error!, /Maximum number of guild roles/);
    assert.equal(first.created.length, 3);
    assert.equal(discord.callsTo(/^PATCH /).length, 0, "nothing is moved after a refusal");
    const saved = (await getSetup(kv, GUILD))!;
    assert.deepEqual(saved.created, first.created.map((i) => i.roleId));

    // The re-run keeps the three (now mapped; Discord lists them) and makes the other ten.
    refuseFrom = Infinity;
    const made = first.created.map((i) => role(i.name, 1, { id: i.roleId }));
    const again = serverOf([...roles, ...made], [bot.id]);
    const plan = planCreate(again, GUILD, effectiveSetup(deps.config, GUILD, saved));
    assert.deepEqual(
      plan.items.filter((i) => i.action === "keep").map((i) => i.slot),
      first.created.map((i) => i.slot),
    );
    const second = await executeCreate(deps, GUILD, ADMIN, again, plan);
    assert.equal(second.error, undefined);
    assert.equal(second.created.length, 10);
    assert.equal((await getSetup(kv, GUILD))!.created.length, 13);
  }));

Deno.test("executeCreate: roles made but not moved are kept, and the error says so", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const bot = role("Bot", 20, { permissions: MANAGE });
    const roles = [everyone(), bot];
    const discord = guildDiscord(clock, {
      roles,
      botRoles: [bot.id],
      reorder: () => json(403, { message: "Missing Permissions", code: 50013 }),
    });
    const deps = memoryDeps(kv, { fetch: discord.fetch, clock });
    const server = serverOf(roles, [bot.id]);
    const plan = planCreate(server, GUILD, effectiveSetup(deps.config, GUILD, null));
    const result = await executeCreate(deps, GUILD, ADMIN, server, plan);
    assert.equal(result.created.length, 13);
    assert.match(
      result.error!,
      /^the roles were created but could not be moved: .*Missing Permissions/,
    );
    assert.equal((await getSetup(kv, GUILD))!.created.length, 13);
  }));

Deno.test("executeCreate: kept roles and reused roles with a problem are left alone", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const bot = role("Bot", 20, { permissions: MANAGE });
    const roles = [everyone(), bot];
    const discord = guildDiscord(clock, { roles, botRoles: [bot.id] });
    const deps = memoryDeps(kv, { fetch: discord.fetch, clock });
    const server = serverOf(roles, [bot.id]);
    const result = await executeCreate(deps, GUILD, ADMIN, server, {
      blocker: null,
      items: [
        { slot: "known", name: "Ethos Known", action: "keep", roleId: bot.id },
        {
          slot: "human",
          name: "Ethos Human Verified",
          action: "reuse",
          roleId: bot.id,
          problem: "above_bot",
        },
      ],
    });
    assert.deepEqual(result, { created: [], reused: [] });
    assert.equal(discord.calls.length, 0);
    assert.equal(await getSetup(kv, GUILD), null);
  }));
