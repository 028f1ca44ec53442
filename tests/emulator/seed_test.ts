import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { compareIds } from "./ids.ts";
import { compareRoles } from "./permissions.ts";
import { DEFAULT_GUILD_ID, tierForScore, TIERS } from "./seed.ts";
import { EmulatorState } from "./state.ts";

function build(
  seed: number,
  members: number,
  extra: Partial<Parameters<EmulatorState["addGuild"]>[0]> = {},
) {
  const state = new EmulatorState({
    applicationId: "100000000000000001",
    botUserId: "100000000000000001",
    botUsername: "Ethos Bot",
    seed,
    now: () => Date.UTC(2026, 0, 1),
  });
  const guild = state.addGuild({ members, ...extra });
  return { state, guild };
}

function snapshot(seed: number, members: number) {
  const { state, guild } = build(seed, members);
  return {
    members: [...guild.members.values()].map((m) => [m.id, m.roles.join(","), m.nick, m.joinedAt]),
    scores: [...state.scores.entries()].sort(),
    roles: guild.sortedRoles().map((r) => [r.id, r.name, r.position]),
    channels: [...guild.channels.values()].map((c) => [c.id, c.name, c.type]),
  };
}

Deno.test("the same seed builds the same guild; another seed builds another", () => {
  deepStrictEqual(snapshot(7, 500), snapshot(7, 500));
  notDeepStrictEqual(snapshot(7, 500).members, snapshot(8, 500).members);
  // Role and channel ids do not depend on the seed, only on the layout.
  deepStrictEqual(snapshot(7, 50).roles, snapshot(8, 50).roles);
});

Deno.test("default guild layout, ids and shares", () => {
  const { state, guild } = build(1, 10_000);
  strictEqual(guild.id, DEFAULT_GUILD_ID);
  strictEqual(guild.members.size, 10_000 + 3 + 1);
  const ids = guild.members.ids();
  deepStrictEqual([...ids], [...ids].sort(compareIds));
  ok(ids.every((id) => /^\d{17,19}$/.test(id)));
  const bot = guild.roles.get(guild.botRole!)!;
  const roles = guild.ethosRoles!;
  for (const id of Object.values(roles)) ok(compareRoles(guild.roles.get(id)!, bot) < 0);
  ok(compareRoles(guild.roles.get(guild.aboveBotRole!)!, bot) > 0);
  strictEqual(guild.members.get(state.config.botUserId)!.roles[0], guild.botRole);

  const humans = [...guild.members.values()].filter((m) => !m.bot);
  const share = (f: (m: (typeof humans)[number]) => boolean) =>
    humans.filter(f).length / humans.length;
  const verified = share((m) => m.roles.includes(roles.verified));
  ok(Math.abs(verified - 0.8) < 0.03, `verified ${verified}`);
  const scored = share((m) => state.scores.has(m.id));
  ok(Math.abs(scored - 0.85) < 0.03, `scored ${scored}`);
  const tierIds = TIERS.map((t) => roles[t]);
  const both = humans.filter((m) => m.roles.includes(roles.verified) && state.scores.has(m.id));
  const inSync = both.filter((m) => {
    const held = m.roles.filter((r) => tierIds.includes(r));
    return held.length === 1 && held[0] === roles[tierForScore(state.scores.get(m.id)!)];
  }).length / both.length;
  ok(Math.abs(inSync - 0.5) < 0.04, `in sync ${inSync}`);
  for (const [, score] of state.scores) ok(score >= 0 && score <= 2800);
  ok(guild.channels.size >= 10);
  strictEqual(guild.emojis.length, 3);
});

Deno.test("seed options change the shares", () => {
  const { state, guild } = build(3, 2000, {
    verifiedShare: 0,
    scoredShare: 1,
    bots: 0,
    roles: 0,
    channels: 0,
  });
  strictEqual(guild.members.size, 2001);
  strictEqual(state.scores.size, 2000);
  ok([...guild.members.values()].every((m) => !m.roles.includes(guild.ethosRoles!.verified)));
  strictEqual(guild.extraRoles.length, 0);
});

Deno.test("100k members seed quickly and page by binary search", () => {
  const t0 = performance.now();
  const { guild } = build(1, 100_000);
  const seedMs = performance.now() - t0;
  ok(seedMs < 5000, `seed took ${seedMs}ms`);
  const ids = guild.members.ids();
  const t1 = performance.now();
  let after = "0";
  let total = 0;
  for (;;) {
    const page = guild.members.page(after, 1000);
    if (page.length === 0) break;
    total += page.length;
    after = page[page.length - 1].id;
  }
  strictEqual(total, ids.length);
  ok(performance.now() - t1 < 500, "paging the store should be cheap");
});
