/**
 * lib/commands/backup/views.ts: the messages /backup shows. The list paged eight at a time with
 * its buttons, one backup with a problem when it fails its checksum, the diff's summary (the same
 * lines the CLI prints, in the member's language), and each job's progress and report.
 */
import assert from "node:assert/strict";
import { withKv } from "../../kv/_kv.ts";
import { memoryDeps } from "../../_deps.ts";
import { answered, buttonsOf, GUILD, handCtx } from "./_ctx.ts";
import { newBackup } from "../../backup/_new_backup.ts";
import { sampleSnapshot } from "../../backup/_sample.ts";
import { keys } from "../../../lib/kv/keys.ts";
import { canonicalBytes, type Snapshot } from "../../../lib/backup/model.ts";
import { requireBackup, saveBackup, setNote, setPinned } from "../../../lib/backup/store.ts";
import { diffSnapshots, diffSummary } from "../../../lib/backup/diff.ts";
import type { JobStatus } from "../../../lib/backup/service.ts";
import { idleProgress, type JobProgress } from "../../../lib/jobs/progress.ts";
import { t } from "../../../lib/i18n/mod.ts";
import {
  counterText,
  diffSummaryLines,
  jobField,
  listPage,
  statusMessage,
  viewMessage,
} from "../../../lib/commands/backup/views.ts";

const LIMITS = { maxPerGuild: 50, cooldownS: 0, retentionDays: 0 };
const AT = Date.UTC(2026, 0, 1);

async function store(kv: Deno.Kv, count: number) {
  const bytes = canonicalBytes(sampleSnapshot());
  for (let i = 0; i < count; i++) {
    await saveBackup(kv, newBackup(`bk${String(i).padStart(6, "0")}`, AT + i), bytes, LIMITS, AT);
  }
}

const ids = (text: string) => [...text.matchAll(/`(bk\d{6})`/g)].map((m) => m[1]);

Deno.test("listPage: none yet says how to make one", () =>
  withKv(async (kv) => {
    const page = await listPage(handCtx(memoryDeps(kv)), 0);
    assert.deepStrictEqual(page, { content: t("en", "backup.list_empty") });
  }));

Deno.test("listPage: eight a page, newest first, its footer and the buttons that page it", () =>
  withKv(async (kv) => {
    await store(kv, 10);
    const ctx = handCtx(memoryDeps(kv, { env: { BACKUP_MAX_PER_GUILD: "20" } }));
    const first = await listPage(ctx, 0);
    const embed = first.embeds![0];
    assert.deepStrictEqual(
      ids(embed.description!),
      [9, 8, 7, 6, 5, 4, 3, 2].map((i) => `bk00000${i}`),
    );
    assert.equal(embed.footer!.text, "Page 1 of 2 · 10 of at most 20 backups");
    assert.deepStrictEqual(
      buttonsOf(first).map((b) => [b.custom_id, b.disabled]),
      [["list|-1", true], ["list|1", false]],
    );
    // Past the end: the last page; before the start: the first.
    const last = await listPage(ctx, 7);
    assert.deepStrictEqual(ids(last.embeds![0].description!), ["bk000001", "bk000000"]);
    assert.deepStrictEqual(buttonsOf(last).map((b) => b.disabled), [false, true]);
    assert.deepStrictEqual(ids((await listPage(ctx, -3)).embeds![0].description!).length, 8);
  }));

Deno.test("listPage: a pinned backup is marked; its note shows, cut and escaped", () =>
  withKv(async (kv) => {
    await store(kv, 1);
    await setPinned(kv, GUILD, "bk000000", true);
    await setNote(kv, GUILD, "bk000000", `*bold* ${"x".repeat(200)}`);
    const text = (await listPage(handCtx(memoryDeps(kv)), 0)).embeds![0].description!;
    assert.ok(text.startsWith("📌 **label bk000000** · `bk000000`"), text);
    assert.ok(text.includes(`\n> \\*bold\\* ${"x".repeat(93)}`), text);
    assert.ok(!text.includes("x".repeat(94)));
  }));

Deno.test("viewMessage: the backup's fields; a failed checksum turns it red with the problem", () =>
  withKv(async (kv) => {
    await store(kv, 1);
    const ctx = handCtx(memoryDeps(kv));
    const ok = (await viewMessage(ctx, "bk000000")).embeds![0];
    const meta = await requireBackup(kv, GUILD, "bk000000");
    assert.equal(ok.title, t("en", "backup.view_title", { label: "label bk000000" }));
    assert.equal(ok.color, 0x1565c0);
    assert.ok(ok.fields!.some((f) => f.value === `\`${meta.checksum}\``));
    assert.ok(!ok.fields!.some((f) => f.name === t("en", "backup.view_problem")));

    await kv.set(keys.backupMeta(GUILD, "bk000000"), { ...meta, checksum: "0".repeat(64) });
    const bad = (await viewMessage(handCtx(memoryDeps(kv), { language: "es" }), "bk000000"))
      .embeds![0];
    assert.equal(bad.color, 0xc62828);
    const problem = bad.fields!.find((f) => f.name === t("es", "backup.view_problem"))!;
    assert.match(problem.value, /^la copia bk000000 no superó la verificación/);
  }));

/** The sample snapshot changed: a role gone, a setting and a member's roles different. */
function changed(): Snapshot {
  const s = sampleSnapshot();
  s.roles = s.roles.filter((r) => r.name !== "Mods");
  s.guild.verification_level = 3;
  s.members[0].roles = ["300000000000000001"];
  return s;
}

Deno.test("diffSummaryLines: the CLI's summary lines, in the member's language", () => {
  const cases = [
    diffSnapshots(sampleSnapshot(), sampleSnapshot()),
    diffSnapshots(sampleSnapshot(), changed()),
    diffSnapshots(sampleSnapshot(), changed(), { membersCompared: false }),
  ];
  for (const d of cases) assert.deepStrictEqual(diffSummaryLines(d, "en"), diffSummary(d));
  assert.deepStrictEqual(diffSummaryLines(cases[0], "es"), [t("es", "backup.diff_identical")]);
  const es = diffSummaryLines(cases[1], "es");
  assert.equal(es.length, diffSummary(cases[1]).length);
  assert.notDeepStrictEqual(es, diffSummary(cases[1]));
});

Deno.test("counterText: a report counter in words; one unknown with its underscores as spaces", () => {
  assert.equal(counterText("parent_links", "en"), "parent links");
  assert.equal(counterText("roles", "es"), t("es", "backup.counter.roles"));
  assert.equal(counterText("brand_new_thing", "en"), "brand new thing");
});

function status(
  job: "capture" | "restore",
  o: Partial<JobProgress> = {},
  x: Partial<JobStatus> = {},
) {
  const progress = { ...idleProgress(`backup_${job}`, GUILD), ...o };
  return {
    guildId: GUILD,
    job,
    progress,
    backupId: null,
    label: null,
    phase: null,
    report: null,
    ...x,
  };
}

Deno.test("jobField: nothing yet, or state, phase, progress and ETA while it runs", () => {
  assert.deepStrictEqual(jobField(status("capture"), "en"), [{
    name: t("en", "backup.job_capture"),
    value: t("en", "backup.none_yet"),
  }]);
  const [field] = jobField(
    status("restore", {
      state: "running",
      processed: 250,
      total: 1_000,
      chunk: 2,
      etaSeconds: 65,
    }, { backupId: "bk000001", phase: "members" }),
    "en",
  )!;
  assert.equal(field.name, t("en", "backup.job_restore"));
  const [head, bar, eta] = field.value.split("\n");
  assert.equal(
    head,
    `**${t("en", "job.state.running")}** · phase members · backup \`bk000001\``,
  );
  assert.equal(bar, "`████░░░░░░░░░░░░` 25% · 250/1000 members · chunk 2");
  assert.equal(eta, "ETA 1m 05s");
  // No ETA once it stopped running.
  const done = jobField(status("restore", { state: "completed", etaSeconds: 5 }), "en")![0];
  assert.ok(!done.value.includes("ETA"));
});

Deno.test("jobField: a restore's report in words, and its problems", () => {
  const report = {
    backupId: "bk000001",
    parts: ["roles" as const],
    rewind: false,
    created: { roles: 2, parent_links: 1 },
    skipped: {},
    failed: { channels: 1 },
    members: { changed: 3 },
    problems: ["moving #staff back: 403 50001 Missing Access"],
  };
  const [field] = jobField(
    status("restore", { state: "completed", lastError: "boom" }, { report }),
    "en",
  )!;
  const lines = field.value.split("\n");
  assert.ok(lines.includes("Error: boom"), field.value);
  assert.ok(lines.includes("Created: roles 2, parent links 1"), field.value);
  assert.ok(lines.includes(`Skipped: ${t("en", "common.none")}`), field.value);
  assert.ok(lines.includes("Failed: channels 1"), field.value);
  assert.equal(lines.at(-1), "• moving #staff back: 403 50001 Missing Access");
});

Deno.test("statusMessage: both jobs, the note, and stop buttons only for a running job", () =>
  withKv(async (kv) => {
    const ctx = handCtx(memoryDeps(kv));
    const m = await statusMessage(ctx, "a note");
    assert.equal(m.embeds![0].description, "a note");
    assert.deepStrictEqual(m.embeds![0].fields!.map((f) => f.name), [
      t("en", "backup.job_capture"),
      t("en", "backup.job_restore"),
    ]);
    assert.deepStrictEqual(buttonsOf(m).map((b) => [b.custom_id, b.disabled]), [
      ["st|", false],
      ["sp|restore", true],
      ["sp|capture", true],
    ]);
    assert.equal(answered(ctx.update(m)).kind, "update");
  }));
