/**
 * lib/sync/refresh.ts (/ethos_refresh): one member's roles synced now from a fresh read and a
 * fresh score, with the fewest writes (one role call for one change, one PATCH for more), and the
 * cases it skips (not a member, a bot, no score from Ethos).
 */
import assert from "node:assert/strict";
import { refreshMember } from "../../lib/sync/refresh.ts";
import { syncServices } from "../../lib/sync/service.ts";
import { GUILD, tierRole, withGuild } from "./_guild.ts";

Deno.test("refreshMember: someone not in the guild, or a bot, is skipped without a write", () =>
  withGuild(async ({ emu, deps }) => {
    assert.deepEqual(await refreshMember(deps, GUILD, "390000000000000001"), {
      status: "skipped",
      reason: "not_member",
    });
    const bot = [...emu.state.guild(GUILD).members.values()].find((m) =>
      m.bot && m.id !== emu.botUserId
    )!;
    assert.deepEqual(await refreshMember(deps, GUILD, bot.id), {
      status: "skipped",
      reason: "bot",
    });
    assert.deepEqual(emu.stats.writes, []);
  }));

Deno.test("refreshMember: a new tier is two changes, written in one PATCH, named in the result", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    const id = verifiedScored().find((m) =>
      emu.state.score(m)! < 2000 &&
      emu.state.memberRoles(GUILD, m)!.includes(tierRole(roles, emu.state.score(m)!))
    )!;
    const old = tierRole(roles, emu.state.score(id)!);
    emu.state.setScore(id, 2300);
    const name = (r: string) => emu.state.guild(GUILD).roles.get(r)!.name;
    const r = await refreshMember(deps, GUILD, id);
    assert.deepEqual(r, {
      status: "changed",
      score: 2300,
      tier: "Exemplary",
      added: [name(roles.exemplary)],
      removed: [name(old)],
      blocked: [],
      verified: true,
    });
    assert.deepEqual(emu.stats.writes.map((w) => w.route), ["PATCH /guilds/:guild/members/:user"]);
    const now = emu.state.memberRoles(GUILD, id)!;
    assert.ok(now.includes(roles.exemplary) && !now.includes(old));
    // The fresh score went into the cache the sync reads.
    const cached = await syncServices(deps).cache.getMany([id]);
    assert.equal((cached.get(id) as { score: number } | null)?.score, 2300);
  }));

Deno.test("refreshMember: one missing role is one PUT; roles already right are no write", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    const id = verifiedScored().find((m) =>
      emu.state.memberRoles(GUILD, m)!.includes(tierRole(roles, emu.state.score(m)!))
    )!;
    const tier = tierRole(roles, emu.state.score(id)!);
    emu.state.setMemberRoles(
      GUILD,
      id,
      emu.state.memberRoles(GUILD, id)!.filter((r) => r !== tier),
    );
    const r = await refreshMember(deps, GUILD, id);
    assert.equal(r.status, "changed");
    assert.deepEqual(
      emu.stats.writes.map((w) => w.route),
      ["PUT /guilds/:guild/members/:user/roles/:role"],
    );
    assert.ok(emu.state.memberRoles(GUILD, id)!.includes(tier));
    const again = await refreshMember(deps, GUILD, id);
    assert.equal(again.status, "unchanged");
    assert.equal(emu.stats.writes.length, 1, "no second write");
  }));

Deno.test("refreshMember: Ethos failing is 'score unavailable', and the roles stay as they are", () =>
  withGuild(async ({ emu, deps, verifiedScored }) => {
    const [id] = verifiedScored();
    const before = emu.state.memberRoles(GUILD, id);
    emu.state.ethos.failing = true;
    emu.state.ethos.failStatus = 400;
    assert.deepEqual(await refreshMember(deps, GUILD, id), {
      status: "skipped",
      reason: "score_unavailable",
    });
    assert.deepEqual(emu.state.memberRoles(GUILD, id), before);
    assert.deepEqual(emu.stats.writes, []);
  }));

Deno.test("refreshMember: a member without the verified role is not scored; managed roles go", () =>
  withGuild(async ({ emu, deps, roles }) => {
    const m = emu.state.addMember(GUILD, { roles: [roles.neutral] });
    emu.state.setScore(m.id, 1300);
    const r = await refreshMember(deps, GUILD, m.id);
    assert.equal(r.status, "changed");
    if (r.status !== "changed") return;
    assert.deepEqual([r.verified, r.score, r.tier], [false, null, null]);
    assert.deepEqual(emu.state.memberRoles(GUILD, m.id), []);
  }));
