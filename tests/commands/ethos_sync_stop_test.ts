/**
 * lib/commands/ethos_sync_stop.ts: /ethos_sync_stop (Manage Roles) says what stopping did: a
 * running chunk is asked to stop after its batch, a run nobody is running is marked stopped, and
 * with no run there is nothing to stop. Each answer carries the status embed.
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { ethosSyncStop } from "../../lib/commands/ethos_sync_stop.ts";
import { keys } from "../../lib/kv/keys.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { commandInteraction, GUILD_ID, type TestApp, withTestApp } from "../_harness.ts";
import { storeRun, syncRun } from "./_sync_run.ts";

const MOD = { permissions: PermissionFlagsBits.ManageRoles, userId: "300000000000000077" };

type Res = { data: { content: string; flags: number; embeds?: { description: string }[] } };

const withApp = (fn: (t: TestApp) => Promise<void>): Promise<void> =>
  withTestApp({ commands: [ethosSyncStop] }, fn);

const stop = async (t: TestApp, who: object = MOD): Promise<Res> =>
  await (await t.post(commandInteraction("ethos_sync_stop", [], who))).json();

const stored = async (t: TestApp) =>
  (await t.deps.kv.get<RunRecord>(keys.jobRun(SYNC_KIND, GUILD_ID))).value;

Deno.test("/ethos_sync_stop: nothing running is nothing to stop, with the reason", () =>
  withApp(async (t) => {
    const r = await stop(t);
    assert.match(r.data.content, /^Nothing to stop: .+\.$/);
    assert.equal(r.data.flags & 64, 64);
    assert.equal(r.data.embeds![0].description, "No sync has run yet in this server.");
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now(), { state: "completed" }));
    assert.match((await stop(t)).data.content, /^Nothing to stop: /);
  }));

Deno.test("/ethos_sync_stop: a chunk running now is asked to stop after its batch", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now()), true);
    const r = await stop(t);
    assert.equal(
      r.data.content,
      "Stopping: the running chunk ends after its current batch. Resume with `/ethos_sync`.",
    );
    const request = (await t.deps.kv.get<{ runId: string; by: string }>(
      keys.jobStop(SYNC_KIND, GUILD_ID),
    )).value!;
    assert.deepEqual([request.runId, request.by], ["run-1", `user:${MOD.userId}`]);
    assert.equal((await stored(t))!.state, "running", "the chunk stops itself");
  }));

Deno.test("/ethos_sync_stop: a run between chunks is stopped at once", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now(), { state: "waiting" }));
    const r = await stop(t);
    assert.equal(r.data.content, "Stopped. Resume with `/ethos_sync`.");
    assert.equal((await stored(t))!.state, "stopped");
    assert.equal(r.data.embeds![0].description, "Stopped");
    assert.match((await stop(t)).data.content, /^Nothing to stop: /, "stopped once");
  }));

Deno.test("/ethos_sync_stop: needs Manage Roles", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now(), { state: "waiting" }));
    const r = await stop(t, { permissions: PermissionFlagsBits.ManageGuild });
    assert.doesNotMatch(r.data.content, /Stopped|Stopping/);
    assert.equal((await stored(t))!.state, "waiting");
  }));
