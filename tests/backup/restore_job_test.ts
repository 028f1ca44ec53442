/**
 * lib/backup/restore_job.ts: the restore as a job. A run starts only from its params; every chunk
 * reads the backup's bytes and checks them against the checksum; a finished run's report is
 * built from the run's committed counters, kept in KV and audited. Then the whole restore against
 * the emulator through the service: deleted roles, categories and channels come back with their
 * overwrites and member roles, a second restore writes nothing, and rewind removes gained roles.
 */
import assert from "node:assert/strict";
import { type Fixture, GUILD, startFixture } from "./_fixture.ts";
import { captureNow, handChunk, restoreCheckpoint, WHO, withGuild } from "./_jobs.ts";
import { startCapture, startRestore } from "../../lib/backup/service.ts";
import type { Emulator } from "../emulator/server.ts";
import { keys } from "../../lib/kv/keys.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { BackupDisabledError } from "../../lib/backup/preflight.ts";
import { BackupCorruptError, getBackup } from "../../lib/backup/store.ts";
import type { RestoreCheckpoint, RestoreReport } from "../../lib/backup/restore_run.ts";
import {
  RESTORE_CONTINUE_PATH,
  RESTORE_KIND,
  restoreJob,
  type RestoreParams,
} from "../../lib/backup/restore_job.ts";

const PARAMS: RestoreParams = {
  backupId: WHO.backupId,
  parts: ["roles", "members"],
  rewind: false,
  actorId: "300000000000000002",
  actorName: "restorer",
};

Deno.test("restoreJob: kind and route; a run starts only from its params, in its mode", () =>
  withGuild({ members: 1 }, async ({ deps }) => {
    const bare = restoreJob(deps);
    assert.deepStrictEqual([bare.kind, bare.continuePath], [RESTORE_KIND, RESTORE_CONTINUE_PATH]);
    assert.throws(() => bare.newRun({ key: GUILD, source: "test" }, 0), /starts from startRestore/);
    const plain = await restoreJob(deps, PARAMS).newRun({ key: GUILD, source: "test" }, 0);
    assert.deepStrictEqual(plain, {
      mode: "restore",
      checkpoint: restoreCheckpoint({
        parts: ["roles", "members"],
        actorId: PARAMS.actorId,
        actorName: PARAMS.actorName,
      }),
    });
    const rewind = await restoreJob(deps, { ...PARAMS, rewind: true }).newRun(
      { key: GUILD, source: "test" },
      0,
    );
    assert.equal(rewind.mode, "restore-rewind");
    assert.equal((rewind.checkpoint as RestoreCheckpoint).rewind, true);
  }));

Deno.test("restoreJob: every chunk passes the backups flag", () =>
  withGuild({ members: 1 }, async ({ deps, kv }) => {
    const job = restoreJob(deps);
    assert.equal(await job.preflight!(GUILD), true);
    await setFlag(kv, GUILD, "backups", false);
    await assert.rejects(() => job.preflight!(GUILD), BackupDisabledError);
  }));

Deno.test("restore chunk: the report comes from the run's committed counters, is kept and audited", () =>
  withGuild({ members: 5 }, async ({ deps, kv }) => {
    await captureNow(deps);
    // What the runner committed for this run so far (the report reads it back).
    await kv.set(keys.jobRun(RESTORE_KIND, GUILD), {
      counters: { "created.roles": 2, "failed.channels": 1, "members.changed": 3 },
      warnings: ["moving #staff back: 403 50001 Missing Access"],
    });
    const cp = restoreCheckpoint({ parts: ["settings"] });
    const chunk = handChunk(cp, { runId: "run-r" });
    const out = await restoreJob(deps).runChunk(chunk.ctx);
    const want: RestoreReport = {
      backupId: WHO.backupId,
      parts: ["settings"],
      rewind: false,
      created: { roles: 2 },
      skipped: {},
      failed: { channels: 1 },
      members: { changed: 3 },
      problems: ["moving #staff back: 403 50001 Missing Access"],
    };
    assert.deepStrictEqual(out, { finished: true, result: want });
    assert.deepStrictEqual((await kv.get(keys.backupRestoreReport(GUILD))).value, {
      ...want,
      runId: "run-r",
      at: deps.clock.now(),
    });
    const [entry] = (await readAudit(kv, GUILD, { limit: 1 })).entries;
    assert.equal(entry.action, "backup.restore.completed");
    assert.deepStrictEqual(entry.actor, { id: WHO.authorId, name: WHO.authorName });
    assert.deepStrictEqual(entry.detail, {
      backupId: WHO.backupId,
      runId: "run-r",
      created: { roles: 2 },
      failed: { channels: 1 },
      members: { changed: 3 },
    });
    // The structure is done: the checkpoint moved on; without the members part none is read.
    assert.equal((chunk.checkpoint() as RestoreCheckpoint).phase, "members");
    assert.ok(chunk.updates.every((u) => u.processed === undefined), "no member handled");
  }));

Deno.test("restore chunk: a stopped chunk is not finished and keeps its phase", () =>
  withGuild({ members: 5, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    emu.state.deleteRole(GUILD, emu.state.guild(GUILD).extraRoles[0]);
    const chunk = handChunk(restoreCheckpoint(), { signal: AbortSignal.abort() });
    assert.deepStrictEqual(await restoreJob(deps).runChunk(chunk.ctx), { finished: false });
    assert.deepStrictEqual(chunk.updates, []);
  }));

Deno.test("restore chunk: the backup's bytes are checked every chunk, even with the parse kept", () =>
  withGuild({ members: 5 }, async ({ deps, kv }) => {
    await captureNow(deps);
    const cp = restoreCheckpoint({ parts: ["settings"] });
    assert.equal((await restoreJob(deps).runChunk(handChunk(cp).ctx)).finished, true);
    assert.equal((await restoreJob(deps).runChunk(handChunk(cp).ctx)).finished, true);
    const meta = (await getBackup(kv, GUILD, WHO.backupId))!;
    await kv.set(keys.backupMeta(GUILD, WHO.backupId), { ...meta, checksum: "0".repeat(64) });
    await assert.rejects(() => restoreJob(deps).runChunk(handChunk(cp).ctx), BackupCorruptError);
  }));

// The whole restore through the service, against the emulator.

const who = { authorId: "300000000000000001", authorName: "tester", source: "test" };
const actor = { actorId: "300000000000000001", actorName: "tester", source: "test" };

async function backup(fx: Fixture): Promise<string> {
  const r = await startCapture(fx.bot.deps, GUILD, who);
  assert.deepStrictEqual(r.status, "started");
  const s = await fx.bot.waitJob("capture");
  assert.deepStrictEqual(s.progress.state, "completed", JSON.stringify(s.progress));
  return s.backupId!;
}

/** The guild's structure by name: roles with settings, channels with overwrites by target name. */
function structure(emu: Emulator) {
  const g = emu.state.guild(GUILD);
  const roleName = (id: string) => id === GUILD ? "@everyone" : g.roles.get(id)?.name ?? `?${id}`;
  const roles = [...g.roles.values()].filter((r) => r.id !== GUILD).sort((a, b) =>
    a.position - b.position
  ).map((r) => ({
    name: r.name,
    permissions: r.permissions,
    color: r.color,
    hoist: r.hoist,
    mentionable: r.mentionable,
    managed: r.managed,
  }));
  const channels = [...g.channels.values()].map((c) => ({
    name: c.name,
    type: c.type,
    parent: c.parent_id ? g.channels.get(c.parent_id)?.name ?? "?" : null,
    topic: c.topic ?? null,
    nsfw: c.nsfw,
    slowmode: c.rate_limit_per_user ?? null,
    bitrate: c.bitrate ?? null,
    userLimit: c.user_limit ?? null,
    overwrites: c.permission_overwrites.map((o) =>
      `${o.type === 0 ? roleName(o.id) : o.id}:${o.allow}/${o.deny}`
    ).sort(),
  })).sort((a, b) => `${a.type}${a.name}`.localeCompare(`${b.type}${b.name}`));
  const members = new Map<string, string[]>();
  for (const m of g.members.values()) {
    if (!m.bot) members.set(m.id, m.roles.map(roleName).sort());
  }
  return { roles, channels, members };
}

Deno.test("restore: deleted roles, categories and channels come back; overwrites and member roles follow the new ids", async () => {
  const fx = await startFixture({ guilds: [{ members: 150, roles: 4, channels: 3 }] });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);
    // A settings change and an overwrite for an extra role, so both are in the backup.
    const role1 = g.extraRoles[0];
    // (On "rules": "staff" hides itself from @everyone and the bot, so the bot could not edit it.)
    const rules = [...g.channels.values()].find((c) => c.name === "rules")!;
    rules.permission_overwrites.push({ id: role1, type: 0, allow: "1024", deny: "0" });
    const before = structure(emu);
    const holders = [...g.members.values()].filter((m) => m.roles.includes(role1)).length;
    assert.ok(holders > 3, `role 1 holders: ${holders}`);
    const id = await backup(fx);

    // The rogue moderator: two roles, a category (its channels lose their parent) and two
    // channels deleted; a setting changed.
    const verified = g.ethosRoles!.verified;
    emu.state.deleteRole(GUILD, role1);
    emu.state.deleteRole(GUILD, verified);
    const info = [...g.channels.values()].find((c) => c.name === "Information")!;
    emu.state.deleteChannel(info.id);
    for (const name of ["general", "ideas"]) {
      emu.state.deleteChannel([...g.channels.values()].find((c) => c.name === name)!.id);
    }
    g.settings.verification_level = 0;
    assert.ok(JSON.stringify(structure(emu)) !== JSON.stringify(before));
    emu.stats.reset();

    const r = await startRestore(bot.deps, GUILD, { backupId: id, ...actor });
    assert.deepStrictEqual(r.status, "started");
    const done = await bot.waitJob("restore");
    assert.deepStrictEqual(done.progress.state, "completed", JSON.stringify(done.progress));
    const report = done.report!;
    assert.deepStrictEqual(report.created.roles, 2);
    assert.deepStrictEqual(report.created.categories, 1);
    assert.deepStrictEqual(report.created.channels, 2);
    // "staff" denies View Channel to @everyone and has no overwrite for the bot: the bot cannot
    // see it, so it cannot move it back under its category. Reported, not hidden.
    assert.deepStrictEqual(report.failed, { channels: 1 }, JSON.stringify(report.problems));
    assert.deepStrictEqual(report.problems, ["moving #staff back: 403 50001 Missing Access"]);
    assert.ok((report.members.changed ?? 0) > 0);

    const after = structure(emu);
    assert.deepStrictEqual(after.roles, before.roles);
    // Every channel is back: settings, parent (orphaned channels go back under the re-created
    // category) and overwrites by role name.
    const staffless = (list: typeof before.channels) =>
      list.map((c) => c.name === "staff" ? { ...c, parent: "(hidden from the bot)" } : c);
    assert.deepStrictEqual(staffless(after.channels), staffless(before.channels));
    assert.deepStrictEqual(report.created.parent_links, 3);
    assert.deepStrictEqual(after.members, before.members);
    assert.deepStrictEqual(g.settings.verification_level, 1);

    // Overwrites point at the new role ids.
    const newVerified = [...g.roles.values()].find((x) => x.name === "Ethos Verified")!;
    assert.ok(newVerified.id !== verified);
    const lounge = [...g.channels.values()].find((c) => c.name === "verified-lounge")!;
    assert.ok(lounge.permission_overwrites.some((o) => o.id === newVerified.id));
    // Never deleted anything.
    assert.deepStrictEqual(emu.stats.writes.filter((w) => w.method === "DELETE"), []);

    // A second restore finds everything in place: no creates, no member writes.
    emu.stats.reset();
    await startRestore(bot.deps, GUILD, { backupId: id, ...actor });
    const again = await bot.waitJob("restore");
    assert.deepStrictEqual(again.report!.created, {});
    assert.deepStrictEqual(emu.stats.writes, []);
  } finally {
    await fx.close();
  }
});

Deno.test("restore: rewind also removes roles gained since the backup; without it they stay", async () => {
  const fx = await startFixture({ guilds: [{ members: 80, roles: 3 }] });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);
    const id = await backup(fx);
    const [r1, r2] = g.extraRoles;
    const humans = [...g.members.values()].filter((m) => !m.bot && m.id !== g.ownerId);
    const gained = humans.slice(0, 10).filter((m) => !m.roles.includes(r2));
    for (const m of gained) emu.state.setMemberRoles(GUILD, m.id, [...m.roles, r2]);
    const lost = humans.slice(10).find((m) => m.roles.includes(r1))!;
    emu.state.setMemberRoles(GUILD, lost.id, lost.roles.filter((r) => r !== r1));

    // Without rewind: the lost role comes back, gained roles stay.
    await startRestore(bot.deps, GUILD, { backupId: id, parts: ["members"], ...actor });
    const plain = await bot.waitJob("restore");
    assert.deepStrictEqual(plain.report!.members.changed, 1);
    assert.ok(emu.state.memberRoles(GUILD, lost.id)!.includes(r1));
    for (const m of gained) assert.ok(emu.state.memberRoles(GUILD, m.id)!.includes(r2));

    // With rewind: the gained roles go too.
    await startRestore(bot.deps, GUILD, {
      backupId: id,
      parts: ["members"],
      rewind: true,
      ...actor,
    });
    const rewound = await bot.waitJob("restore");
    assert.deepStrictEqual(rewound.report!.members.changed, gained.length);
    assert.deepStrictEqual(rewound.report!.members.roles_removed, gained.length);
    for (const m of gained) assert.ok(!emu.state.memberRoles(GUILD, m.id)!.includes(r2));
    // Managed roles are never touched.
    assert.deepStrictEqual(
      emu.stats.writes.filter((w) => /roles\/\d+$/.test(w.path) && w.path.includes(g.managedRole!)),
      [],
    );
  } finally {
    await fx.close();
  }
});
