/**
 * lib/commands/ethos_sync_status.ts: the sync's status embed (what shows for each state), its
 * small formatters, and the command: anyone may look and refresh, Stop needs Manage Roles.
 */
import assert from "node:assert/strict";
import { MessageFlags, PermissionFlagsBits } from "discord-api-types/v10";
import { eta, ethosSyncStatus, rate, statusEmbed } from "../../lib/commands/ethos_sync_status.ts";
import { type Language, t } from "../../lib/i18n/mod.ts";
import { reason } from "../../lib/i18n/reason.ts";
import { idleProgress, type JobProgress } from "../../lib/jobs/progress.ts";
import { keys } from "../../lib/kv/keys.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import {
  commandInteraction,
  componentInteraction,
  GUILD_ID,
  type TestApp,
  withTestApp,
} from "../_harness.ts";
import { progress, storeRun, syncRun } from "./_sync_run.ts";

const fieldMap = (e: ReturnType<typeof statusEmbed>) =>
  Object.fromEntries((e.fields ?? []).map((f) => [f.name, f.value]));

Deno.test("eta and rate: seconds as a duration, unknown in words; one decimal per second", () => {
  assert.equal(eta(null, "en"), "unknown");
  assert.equal(eta(Infinity, "en"), "unknown");
  assert.equal(eta(3_725, "en"), "1h 02m");
  assert.equal(eta(65, "en"), "1m 05s");
  assert.equal(rate(12.345, "en"), "12.3");
  assert.equal(rate(3, "en"), "3.0");
  assert.equal(rate(1234.56, "es"), "1234,6");
});

Deno.test("statusEmbed: before any run, the state and nothing else", () => {
  const e = statusEmbed(progress(), "en");
  assert.deepEqual(e, {
    title: "Ethos role sync",
    description: "No sync has run yet in this server.",
    color: 0x9e9e9e,
    fields: [],
    footer: undefined,
  });
  assert.equal(
    statusEmbed(progress(), "en", "a note").description,
    "No sync has run yet in this server.\na note",
  );
});

Deno.test("statusEmbed: a running run, every field, its reasons in words", () => {
  const e = statusEmbed(
    progress({
      runId: "run-7",
      state: "running",
      mode: "incremental",
      dryRun: true,
      processed: 50,
      total: 200,
      counters: {
        changed: 10,
        unchanged: 30,
        "skipped.bot": 2,
        "skipped.some_new_reason": 1,
        "errors.missing_permissions": 3,
      },
      chunk: 2,
      nextIndex: 50,
      ratePerSecond: 12.34,
      etaSeconds: 300,
      startedAt: "2026-11-22T12:00:00.000Z",
      updatedAt: "2026-11-22T12:01:00.000Z",
      lastError: "Discord answered 500",
      warnings: ["role X is above the bot"],
    }),
    "en",
  );
  assert.equal(e.title, "Ethos role sync (dry run) (incremental)");
  assert.equal(e.description, "Running");
  assert.equal(e.color, 0x1565c0);
  assert.equal(e.footer?.text, "run run-7");
  const f = fieldMap(e);
  assert.equal(f.Progress, "`█████░░░░░░░░░░░░░░░` 25%\n50 / 200 members");
  assert.deepEqual(
    [f.Changed, f.Unchanged, f.Skipped, f.Errors, f.Chunk, f.Speed, f.ETA],
    ["10", "30", "3", "3", "2 (next index 50)", "12.3 members/s", "5m 00s"],
  );
  assert.equal(f.Started, "<t:1795348800:R>");
  assert.equal(
    f.Details,
    "skipped bot: 2\nskipped some new reason: 1\nerror missing permissions: 3",
  );
  assert.match(f["Last error"], /Discord answered 500/);
  assert.equal(f.Warnings, "• role X is above the bot");
});

Deno.test("statusEmbed: a finished run has no ETA; an unknown total shows the count alone", () => {
  const e = statusEmbed(
    progress({ runId: "r", state: "completed", processed: 7, total: null, etaSeconds: 10 }),
    "en",
  );
  const f = fieldMap(e);
  assert.equal(f.ETA, undefined);
  assert.equal(f.Speed, "—");
  assert.match(f.Progress, /\n7 members$/);
  assert.equal(f.Updated, "—");
  assert.equal(e.color, 0x2e7d32);
});

const withApp = (
  fn: (t: TestApp) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> => withTestApp({ commands: [ethosSyncStatus], env }, fn);

type Res = {
  type: number;
  data: {
    content?: string;
    flags?: number;
    embeds?: { description: string }[];
    components?: { components: { custom_id: string; disabled?: boolean; label: string }[] }[];
  };
};
const buttons = (r: Res) => r.data.components![0].components;

Deno.test("/ethos_sync_status: private; Refresh always, Stop only while a run is live", () =>
  withApp(async (t) => {
    const idle: Res = await (await t.post(commandInteraction("ethos_sync_status"))).json();
    assert.equal(idle.data.flags! & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
    assert.equal(idle.data.embeds![0].description, "No sync has run yet in this server.");
    assert.deepEqual(buttons(idle).map((b) => [b.label, b.disabled ?? false]), [
      ["Refresh", false],
      ["Stop", true],
    ]);
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now()), true);
    const refreshed: Res = await (await t.post(
      componentInteraction(buttons(idle)[0].custom_id, { userId: "300000000000000042" }),
    )).json();
    assert.equal(refreshed.type, 7, "anyone may refresh, in place");
    assert.equal(refreshed.data.embeds![0].description, "Running");
    assert.equal(buttons(refreshed)[1].disabled, false);
  }));

Deno.test("/ethos_sync_status: Stop needs Manage Roles; with it the run is stopped", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now()));
    const view: Res = await (await t.post(commandInteraction("ethos_sync_status"))).json();
    const stop = buttons(view)[1].custom_id;
    const refused: Res = await (await t.post(componentInteraction(stop))).json();
    assert.equal(
      refused.data.content,
      "You need the **Manage Roles** permission to stop the sync.",
    );
    const stopper = { permissions: PermissionFlagsBits.ManageRoles, userId: "300000000000000043" };
    const done: Res = await (await t.post(componentInteraction(stop, stopper))).json();
    assert.equal(done.type, 7);
    assert.equal(
      done.data.embeds![0].description,
      "Stopped\nStop requested by <@300000000000000043>.",
    );
    const stored = (await t.deps.kv.get<RunRecord>(keys.jobRun(SYNC_KIND, GUILD_ID))).value!;
    assert.equal(stored.state, "stopped");
    const again: Res = await (await t.post(componentInteraction(stop, stopper))).json();
    assert.match(again.data.embeds![0].description, /\nNothing to stop \(/);
  }));

Deno.test("/ethos_sync_status: a server command: in a DM it is refused before it runs", () =>
  withApp(async (t) => {
    const res: Res = await (await t.post(
      commandInteraction("ethos_sync_status", [], { guildId: null }),
    )).json();
    assert.equal(res.data.content, "This command only works in a server.");
    assert.equal(res.data.embeds, undefined);
  }));

// The last error in each language: from the Reason the run stored beside it; without one (a run
// stored before errors carried their Reason, or someone else's words) its text as it is.
const LAST_ERROR_GUILD = "200000000000000001";

function failed(o: Partial<JobProgress>): JobProgress {
  return {
    ...idleProgress("sync", LAST_ERROR_GUILD),
    runId: "run-a",
    state: "failed",
    chunk: 1,
    ...o,
  };
}

function lastError(p: JobProgress, language: Language): string | undefined {
  const name = t(language, "ethos_sync.last_error");
  return statusEmbed(p, language).fields?.find((f) => f.name === name)?.value;
}

Deno.test("ethos_sync_status: the last error shows in the member's language", () => {
  const why = reason("reason.sync_disabled", { guild: LAST_ERROR_GUILD });
  const english = t("en", "reason.sync_disabled", { guild: LAST_ERROR_GUILD });
  const spanish = t("es", "reason.sync_disabled", { guild: LAST_ERROR_GUILD });
  assert.notEqual(spanish, english);
  assert.equal(lastError(failed({ lastError: english, lastErrorWhy: why }), "es"), spanish);
  // Without it (a run stored before errors carried one): its English text, as stored.
  assert.equal(lastError(failed({ lastError: english }), "es"), english);
  assert.equal(lastError(failed({ lastError: english, lastErrorWhy: why }), "en"), english);
  // The Reason wins over its text: a reworded English sentence is still translated.
  assert.equal(lastError(failed({ lastError: "reworded", lastErrorWhy: why }), "es"), spanish);
  // An error without a Reason of the catalogue shows as it is.
  assert.equal(lastError(failed({ lastError: "boom" }), "es"), "boom");
  assert.equal(lastError(failed({}), "es"), undefined);
});
