/**
 * The cron entry points and the guards around jobs: scheduled backups (due, feature flags,
 * rotation at the cap), retention, one restore per guild at a time, the backups feature flag,
 * and the operator routes failing closed.
 */
import assert from "node:assert/strict";
import { GUILD, offsetClock, startBot, startFixture, TOKEN } from "./_fixture.ts";
import { startEmulator } from "../emulator/server.ts";
import {
  BackupBusyError,
  BackupDisabledError,
  backupRetention,
  runScheduledBackups,
  startCapture,
  startRestore,
} from "../../lib/backup/service.ts";
import { getSchedule, setSchedule } from "../../lib/backup/schedule.ts";
import { listBackups, setPinned } from "../../lib/backup/store.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { explain } from "../../lib/i18n/reason.ts";
import { idleProgress } from "../../lib/jobs/progress.ts";
import { withKv } from "../kv/_kv.ts";
import { memoryDeps } from "../_deps.ts";
import { G } from "./_new_backup.ts";
import { assertSays, thrown } from "./_refusal.ts";

const HOUR = 3_600_000;
const who = { authorId: "1", authorName: "t", source: "test" };

Deno.test("schedule: due guilds get a backup; flags respected; rotation at the cap; retention", async () => {
  const emu = await startEmulator({ uniformRate: 500, guilds: [{ members: 30 }] });
  const clock = offsetClock(0);
  const bot = await startBot(emu, {
    clock,
    env: { BACKUP_MAX_PER_GUILD: "2", BACKUP_RETENTION_DAYS: "7" },
  });
  try {
    const deps = bot.deps;
    await setSchedule(deps.kv, GUILD, { enabled: true, hours: 6 }, "1", clock.now());
    assert.deepStrictEqual(await runScheduledBackups(deps), {}, "not due yet");

    clock.shift(6 * HOUR + 1);
    const first = await runScheduledBackups(deps);
    assert.ok(first[GUILD].startsWith("started "), JSON.stringify(first));
    await bot.waitJob("capture");
    assert.deepStrictEqual((await listBackups(deps.kv, GUILD)).map((m) => m.source), ["schedule"]);
    const s = (await getSchedule(deps.kv, GUILD))!;
    assert.deepStrictEqual(s.nextAt, clock.now() - (clock.now() - s.lastRunAt!) + 6 * HOUR);
    assert.deepStrictEqual(await runScheduledBackups(deps), {}, "claimed: not due again");

    // scheduled_backups off: skipped, and the schedule is not consumed.
    clock.shift(6 * HOUR);
    await setFlag(deps.kv, GUILD, "scheduled_backups", false);
    assert.deepStrictEqual(await runScheduledBackups(deps), { [GUILD]: "skipped: feature off" });
    await setFlag(deps.kv, GUILD, "scheduled_backups", true);
    await runScheduledBackups(deps);
    await bot.waitJob("capture");

    // At the cap (2): the oldest scheduled backup rotates out; a pinned one never does.
    const [newest, oldest] = await listBackups(deps.kv, GUILD);
    await setPinned(deps.kv, GUILD, newest.id, true);
    clock.shift(6 * HOUR);
    await runScheduledBackups(deps);
    await bot.waitJob("capture");
    const ids = (await listBackups(deps.kv, GUILD)).map((m) => m.id);
    assert.deepStrictEqual(ids.length, 2);
    assert.ok(ids.includes(newest.id) && !ids.includes(oldest.id));
    const actions = (await readAudit(deps.kv, GUILD, { limit: 20 })).entries.map((e) => e.action);
    assert.ok(actions.includes("backup.delete"));

    // Retention (7 days): the unpinned one goes after a week, the pinned one stays.
    clock.shift(8 * 24 * HOUR);
    const pruned = await backupRetention(deps);
    assert.deepStrictEqual(pruned[GUILD].length, 1);
    assert.deepStrictEqual((await listBackups(deps.kv, GUILD)).map((m) => m.id), [newest.id]);
  } finally {
    await bot.close();
    await emu.close();
  }
});

Deno.test("jobs: one restore per guild at a time; the backups flag turns captures and restores off", async () => {
  const fx = await startFixture({ guilds: [{ members: 1500 }] });
  try {
    const { bot } = fx;
    await startCapture(bot.deps, GUILD, who);
    const id = (await bot.waitJob("capture", 120_000)).backupId!;
    // Every Discord answer takes 300 ms now: the first restore is surely still running.
    fx.emu.setFaults({ latencyMs: 300 });
    const first = await startRestore(bot.deps, GUILD, {
      backupId: id,
      parts: ["members"],
      rewind: true,
      actorId: "1",
      actorName: "t",
      source: "test",
    });
    assert.deepStrictEqual(first.status, "started");
    await assert.rejects(
      () =>
        startRestore(bot.deps, GUILD, {
          backupId: id,
          actorId: "1",
          actorName: "t",
          source: "test",
        }),
      BackupBusyError,
    );
    const res = await bot.request("POST", `/backups/${id}/restore`, {});
    assert.deepStrictEqual(res.status, 409);
    await res.body?.cancel();
    // The operator stops it; it ends "stopped" after its in-flight request.
    const stop = await bot.json("POST", "/backups/jobs/restore/stop", {});
    assert.deepStrictEqual(stop.status, 200);
    assert.deepStrictEqual(stop.body.status, "stopping");
    fx.emu.setFaults({ latencyMs: 0 });
    const stopped = await bot.waitJob("restore", 120_000);
    assert.deepStrictEqual(stopped.progress.state, "stopped");

    await setFlag(bot.deps.kv, GUILD, "backups", false);
    await assert.rejects(() => startCapture(bot.deps, GUILD, who), BackupDisabledError);
    const off = await bot.request("POST", "/backups", {});
    assert.deepStrictEqual(off.status, 403);
    await off.body?.cancel();
  } finally {
    await fx.close();
  }
});

Deno.test("routes: bearer required, constant-time compared, fail closed without a token", async () => {
  const fx = await startFixture({ guilds: [{ members: 5 }] });
  const emu2 = fx.emu;
  const closed = await startBot(emu2, { env: { SYNC_AUTH_TOKEN: "" } });
  try {
    const { bot } = fx;
    for (
      const [method, path] of [["GET", "/backups"], ["POST", "/backups"], [
        "GET",
        "/backups/status",
      ]]
    ) {
      const none = await bot.request(method, path, undefined, null);
      assert.deepStrictEqual(none.status, 401);
      await none.body?.cancel();
      const wrong = await bot.request(method, path, undefined, TOKEN + "x");
      assert.deepStrictEqual(wrong.status, 401);
      await wrong.body?.cancel();
      const off = await closed.request(method, path, undefined, TOKEN);
      assert.deepStrictEqual(off.status, 401);
      assert.deepStrictEqual((await off.json()).error.includes("SYNC_AUTH_TOKEN is not set"), true);
    }
    const ok = await bot.json("GET", "/backups");
    assert.deepStrictEqual(ok.status, 200);
    assert.deepStrictEqual(ok.body.backups, []);
    assert.deepStrictEqual((await bot.json("GET", "/backups?guild=nope")).status, 400);
    assert.deepStrictEqual((await bot.json("GET", "/backups/zzzzzzzz")).status, 404);
    assert.deepStrictEqual((await bot.json("POST", "/backups", { bogus: 1 })).status, 400);
    const cont = await bot.json("POST", "/backups/jobs/capture/continue", { runId: "none" });
    assert.deepStrictEqual(cont.body.started, false);
  } finally {
    await closed.close();
    await fx.close();
  }
});

Deno.test("backup refusals: the service's errors and refusals carry their Reason", async () => {
  await withKv(async (kv) => {
    const progress = idleProgress("backup_capture", G);
    assertSays(
      new BackupBusyError("capture", progress),
      BackupBusyError,
      "a backup of this server is already being captured",
      "ya se está capturando una copia de este servidor",
    );
    assertSays(
      new BackupBusyError("restore", progress),
      BackupBusyError,
      "a restore is already running in this server (one at a time)",
      "ya hay una restauración en curso en este servidor (solo una a la vez)",
    );

    const who = { authorId: "1", authorName: "t", source: "command" };
    // Shutting down: the start is refused, and the refusal passes its Reason on.
    const deps = { ...memoryDeps(kv), shutdown: AbortSignal.abort() };
    const refused = await startCapture(deps, G, who);
    assert.ok(refused.status === "conflict");
    assert.equal(refused.reason, "this instance is shutting down; try again");
    assert.equal(explain("es", refused), "esta instancia se está apagando; inténtalo de nuevo");

    await setFlag(kv, G, "backups", false);
    assertSays(
      await thrown(startCapture(memoryDeps(kv), G, who)),
      BackupDisabledError,
      `backups are turned off for server ${G} (feature flag backups)`,
      `las copias de seguridad están desactivadas en el servidor ${G} (función backups)`,
    );
  });
});
