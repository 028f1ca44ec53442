/**
 * The richer rule through a real sync on the emulator: validator and human roles from the
 * profile flags (one bulk users call per page), a default profile holding no managed role, and
 * Ethos failing on the flags call skipping members rather than stripping them.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../emulator/server.ts";
import { GUILD, startBot } from "./sync_helpers.ts";
import { updateSetup } from "../../lib/guilds/setup.ts";

async function setup(o: { envHuman?: boolean } = {}) {
  const emu = await startEmulator({ uniformRate: 200, guilds: [{ members: 40 }] });
  const validator = emu.state.addRole(GUILD, { name: "Ethos Validator" });
  const human = emu.state.addRole(GUILD, { name: "Ethos Human" });
  const bot = await startBot(emu, {
    env: {
      ETHOS_VALIDATOR_ROLE_ID: validator.id,
      ...(o.envHuman === false ? {} : { ETHOS_HUMAN_ROLE_ID: human.id }),
    },
  });
  const roles = emu.state.guild(GUILD).ethosRoles!;
  const verified = [...emu.state.guild(GUILD).members.values()]
    .filter((m) => !m.bot && m.roles.includes(roles.verified))
    .map((m) => m.id);
  return {
    emu,
    bot,
    roles: { ...roles, validator: validator.id, human: human.id },
    verified,
    has: (id: string, role: string) => emu.state.memberRoles(GUILD, id)!.includes(role),
    async close() {
      await bot.close();
      await emu.close();
    },
  };
}

Deno.test("sync e2e: validator and human roles, default profiles, one bulk call per page", async () => {
  const f = await setup();
  try {
    const [v, h, both, none, def, lostValidator] = f.verified;
    f.emu.state.setProfile(v, { score: 1500, validator: true, human: false });
    f.emu.state.setProfile(h, { score: 1500, validator: false, human: true });
    f.emu.state.setProfile(both, { score: 2100, validator: true, human: true });
    f.emu.state.setProfile(none, { score: 1500, validator: false, human: false });
    f.emu.state.setProfile(def, { score: 1200, isDefault: true });
    f.emu.state.setProfile(lostValidator, { score: 900, validator: false, human: false });
    // Before: the default profile holds a tier and the profile role; the ex-validator the role.
    const guild = f.emu.state.guild(GUILD);
    guild.members.get(def)!.roles.push(f.roles.neutral, f.roles.profile);
    guild.members.get(lostValidator)!.roles.push(f.roles.validator);

    const r = await f.bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed", JSON.stringify(r.body));
    assert.ok(f.has(v, f.roles.validator) && !f.has(v, f.roles.human));
    assert.ok(f.has(h, f.roles.human) && !f.has(h, f.roles.validator));
    assert.ok(f.has(both, f.roles.validator) && f.has(both, f.roles.human));
    assert.ok(f.has(both, f.roles.exemplary));
    assert.ok(!f.has(none, f.roles.validator) && !f.has(none, f.roles.human));
    for (const role of [f.roles.neutral, f.roles.profile, f.roles.validator, f.roles.human]) {
      assert.ok(!f.has(def, role), `the default profile holds no managed role (${role})`);
    }
    assert.ok(!f.has(lostValidator, f.roles.validator), "a validator role whose NFT is gone goes");
    assert.ok(f.has(lostValidator, f.roles.questionable));
    // 40 members: one page, so one bulk call: the users call carries scores and flags.
    assert.deepStrictEqual(f.emu.stats.ethosCalls["POST /score/userkeys"] ?? 0, 0);
    assert.deepStrictEqual(f.emu.stats.ethosCalls["POST /users/by/discord"], 1);
  } finally {
    await f.close();
  }
});

Deno.test("sync e2e: the users call failing pauses the run and strips nothing; it resumes later", async () => {
  const f = await setup();
  try {
    const [v] = f.verified;
    // Ethos no longer sees a validator NFT, but its users endpoint is failing: nothing changes
    // and the run pauses, as for any Ethos outage, until Ethos answers again.
    f.emu.state.setProfile(v, { score: 1500, validator: false });
    f.emu.state.guild(GUILD).members.get(v)!.roles.push(f.roles.validator);
    f.emu.state.ethos.failPaths.add("/users/by/discord");
    const before = new Map(f.verified.map((id) => [id, [...f.emu.state.memberRoles(GUILD, id)!]]));
    const r = await f.bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(r.body.state, "waiting", JSON.stringify(r.body));
    const warnings = (r.body as { status: { warnings: string[] } }).status.warnings;
    assert.ok(warnings.some((w) => w.includes("the Ethos API failed")), String(warnings));
    for (const [id, roles] of before) {
      const now = f.emu.state.memberRoles(GUILD, id)!;
      for (const role of roles) assert.ok(now.includes(role), `${id} lost ${role}`);
    }
    // Once Ethos answers again, the run continues and the role goes.
    f.emu.state.ethos.failPaths.clear();
    const again = await f.bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(again.body.state, "completed", JSON.stringify(again.body));
    assert.ok(!f.has(v, f.roles.validator));
  } finally {
    await f.close();
  }
});

Deno.test("sync e2e: a page where no verified member has a score completes (no-score is an answer)", async () => {
  const f = await setup();
  try {
    for (const id of f.verified) f.emu.state.setScore(id, null);
    const r = await f.bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed", JSON.stringify(r.body));
    for (const id of f.verified) {
      for (const role of [f.roles.neutral, f.roles.profile, f.roles.exemplary]) {
        assert.ok(!f.has(id, role), `${id} keeps ${role} without a score`);
      }
    }
  } finally {
    await f.close();
  }
});

Deno.test("sync e2e: the incremental run re-checks validator and human holders with fresh flags", async () => {
  const f = await setup();
  try {
    const [v, h, plain] = f.verified;
    // Scores set long before the runs, so the feed of score updates never names these members.
    const longAgo = Date.now() - 24 * 3_600_000;
    for (const id of [v, h, plain]) f.emu.state.setScore(id, 1500, longAgo);
    f.emu.state.setProfile(v, { validator: true, human: false });
    f.emu.state.setProfile(h, { validator: false, human: true });
    f.emu.state.setProfile(plain, { validator: false, human: false });
    await f.bot.trigger({}, "?wait=true");
    assert.ok(f.has(v, f.roles.validator) && f.has(h, f.roles.human));
    // The full sync indexed the holders.
    const indexed = async () => {
      const ids: string[] = [];
      for await (const e of f.bot.kv.list({ prefix: ["sync_holders", GUILD] })) {
        ids.push(String(e.key[2]));
      }
      return ids;
    };
    const before = await indexed();
    assert.ok(before.includes(v) && before.includes(h) && !before.includes(plain), String(before));

    // The NFT moves and human verification is revoked: no score changes, nothing in the feed.
    f.emu.state.setProfile(v, { validator: false });
    f.emu.state.setProfile(h, { human: false });
    f.emu.stats.reset();
    const r = await f.bot.trigger({ mode: "incremental", startIndex: 0 }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed", JSON.stringify(r.body));
    assert.ok(!f.has(v, f.roles.validator), "validator role removed by the re-check");
    assert.ok(!f.has(h, f.roles.human), "human role removed by the re-check");
    assert.ok(f.has(v, f.roles.neutral) && f.has(h, f.roles.neutral), "the tier stays");
    // Only the holders were read (no member list walk), and they left the index.
    assert.deepStrictEqual(f.emu.stats.requests["GET /guilds/:guild/members"] ?? 0, 0);
    const feed = f.emu.stats.ethosCalls["GET /score/updates"] ?? 0;
    assert.ok(feed >= 1, "the feed was read first");
    const after = await indexed();
    assert.ok(!after.includes(v) && !after.includes(h), String(after));
  } finally {
    await f.close();
  }
});

Deno.test("sync e2e: the stored setup fills what the environment does not set", async () => {
  const f = await setup({ envHuman: false });
  try {
    // A setup made in Discord names a human role for the environment's guild, which sets none.
    const extra = f.emu.state.addRole(GUILD, { name: "Human (from /ethos_setup)" });
    await updateSetup(f.bot.deps, GUILD, { id: "300000000000000001" }, "map", (s) => {
      s.roles.human = extra.id;
      s.roles.validator = "799999999999999999"; // the environment's validator role wins
      return s;
    });
    const [h] = f.verified;
    const longAgo = Date.now() - 24 * 3_600_000;
    f.emu.state.setScore(h, 1500, longAgo);
    f.emu.state.setProfile(h, { validator: true, human: true });
    const r = await f.bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed", JSON.stringify(r.body));
    assert.ok(f.has(h, extra.id), "the setup's human role is given");
    assert.ok(f.has(h, f.roles.validator), "the environment's validator role is given");
    assert.ok(!f.has(h, f.roles.human), "the environment sets no human role here");
  } finally {
    await f.close();
  }
});
