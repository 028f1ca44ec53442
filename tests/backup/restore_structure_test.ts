/**
 * lib/backup/restore_structure.ts: the structure phase against the emulator. What was deleted is
 * created once (a re-run finds it and creates nothing), only the parts asked for are touched, a
 * failed entity is counted and not tried again, and a stopped chunk stops before its next write.
 */
import assert from "node:assert/strict";
import {
  captureNow,
  GUILD,
  refusedBy,
  restoreCheckpoint,
  restoreRunOf,
  withGuild,
} from "./_jobs.ts";
import { readLiveGuild } from "../../lib/backup/restore_live.ts";
import { restoreStructure } from "../../lib/backup/restore_structure.ts";
import type { RestoreCheckpoint } from "../../lib/backup/restore_run.ts";
import { getFlags, setFlag } from "../../lib/ops/flags.ts";
import type { Emulator } from "../emulator/server.ts";
import type { MemoryDeps } from "../_deps.ts";

const CREATE_ROLE = "POST /guilds/:guild/roles";
const CREATE_CHANNEL = "POST /guilds/:guild/channels";

/** Deletes the first extra role and #general; returns their names. */
function vandalise(emu: Emulator): { role: string; channel: string } {
  const g = emu.state.guild(GUILD);
  const role = g.roles.get(g.extraRoles[0])!;
  emu.state.deleteRole(GUILD, role.id);
  const general = [...g.channels.values()].find((c) => c.name === "general")!;
  emu.state.deleteChannel(general.id);
  return { role: role.name, channel: general.name };
}

async function structure(deps: MemoryDeps, cp: RestoreCheckpoint, signal?: AbortSignal) {
  const { run, chunk } = await restoreRunOf(deps, cp, { signal });
  const done = await restoreStructure(run, await readLiveGuild(deps, GUILD));
  return { done, run, chunk };
}

const names = (emu: Emulator) => {
  const g = emu.state.guild(GUILD);
  return {
    roles: [...g.roles.values()].map((r) => r.name).sort(),
    channels: [...g.channels.values()].map((c) => c.name).sort(),
  };
};

Deno.test("structure: what was deleted is created once; a re-run finds it and writes nothing", () =>
  withGuild({ members: 10, roles: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    // #general lets the role that goes read it: the new channel's overwrite names the new role.
    const general = [...g.channels.values()].find((c) => c.name === "general")!;
    general.permission_overwrites.push({ id: g.extraRoles[0], type: 0, allow: "1024", deny: "0" });
    await captureNow(deps);
    const before = names(emu);
    const gone = vandalise(emu);
    emu.stats.reset();

    const first = await structure(deps, restoreCheckpoint());
    assert.equal(first.done, true);
    assert.deepStrictEqual(names(emu), before);
    assert.equal(emu.stats.writesTo(CREATE_ROLE).length, 1);
    assert.equal(emu.stats.writesTo(CREATE_CHANNEL).length, 1);
    const counters = first.chunk.counters();
    assert.equal(counters["created.roles"], 1);
    assert.equal(counters["created.channels"], 1);
    assert.equal(first.run.cp.createdRoles.length, 1);
    assert.equal(first.run.cp.positionsDone, true);
    assert.deepStrictEqual(first.run.cp.failed, []);
    const created = g.roles.get(first.run.cp.createdRoles[0])!;
    assert.equal(created.name, gone.role);
    const back = [...g.channels.values()].find((c) => c.name === gone.channel)!;
    assert.ok(back.id !== general.id);
    assert.deepStrictEqual(
      back.permission_overwrites.filter((o) => o.allow === "1024" && o.type === 0).map((o) => o.id),
      [created.id],
    );

    // Another chunk (a crash before the checkpoint, say) matches by name: no second create.
    emu.stats.reset();
    const again = await structure(deps, restoreCheckpoint());
    assert.equal(again.done, true);
    assert.deepStrictEqual(emu.stats.writes, []);
    assert.deepStrictEqual(again.chunk.counters(), {});
  }));

Deno.test("structure: only the parts asked for are touched", () =>
  withGuild({ members: 5, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    vandalise(emu);
    const g = emu.state.guild(GUILD);
    const level = g.settings.verification_level;
    g.settings.verification_level = level === 0 ? 1 : 0;
    emu.stats.reset();
    const { done, run } = await structure(deps, restoreCheckpoint({ parts: ["settings"] }));
    assert.equal(done, true);
    assert.equal(g.settings.verification_level, level);
    assert.deepStrictEqual(emu.stats.writesTo(CREATE_ROLE), []);
    assert.deepStrictEqual(emu.stats.writesTo(CREATE_CHANNEL), []);
    assert.equal(run.cp.positionsDone, false, "roles untouched");
  }));

Deno.test("structure: the bot's own settings come back with the settings part", () =>
  withGuild({ members: 5 }, async ({ deps, kv }) => {
    await captureNow(deps);
    await setFlag(kv, GUILD, "scheduled_backups", false);
    const { chunk } = await structure(deps, restoreCheckpoint({ parts: ["settings"] }));
    assert.equal((await getFlags(kv, GUILD)).scheduled_backups, true);
    assert.equal(chunk.counters()["created.bot_settings"], 1);
  }));

Deno.test("structure: an entity marked failed is not tried again", () =>
  withGuild({ members: 5, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    const roleId = emu.state.guild(GUILD).extraRoles[0];
    vandalise(emu);
    emu.stats.reset();
    const { done } = await structure(
      deps,
      restoreCheckpoint({ parts: ["roles"], failed: [`role:${roleId}`] }),
    );
    assert.equal(done, true);
    assert.deepStrictEqual(emu.stats.writesTo(CREATE_ROLE), []);
  }));

Deno.test("structure: a stopped chunk stops before its next write", () =>
  withGuild({ members: 5, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    vandalise(emu);
    emu.stats.reset();
    const { done, chunk } = await structure(deps, restoreCheckpoint(), AbortSignal.abort());
    assert.equal(done, false);
    assert.deepStrictEqual(emu.stats.writes, []);
    assert.deepStrictEqual(chunk.updates, []);
  }));

/** Refuses every role create with 403 Missing Permissions; the rest goes to the emulator. */
const noRoleCreates = refusedBy(
  (req) => req.method === "POST" && /\/guilds\/\d+\/roles$/.test(new URL(req.url).pathname),
  { message: "Missing Permissions", code: 50013 },
);

Deno.test("structure: a failed write is counted, described, marked, and the rest goes on", () =>
  withGuild({ members: 5, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    const roleId = emu.state.guild(GUILD).extraRoles[0];
    const gone = vandalise(emu);
    const { done, run, chunk } = await structure(deps, restoreCheckpoint());
    assert.equal(done, true);
    assert.deepStrictEqual(run.cp.failed, [`role:${roleId}`]);
    const counters = chunk.counters();
    assert.equal(counters["failed.roles"], 1);
    assert.equal(counters["created.channels"], 1, "the channel is created all the same");
    const warnings = chunk.updates.flatMap((u) => u.warnings ?? []);
    assert.deepStrictEqual(warnings, [`role "${gone.role}": 403 50013 Missing Permissions`]);
  }, { fetch: noRoleCreates }));
