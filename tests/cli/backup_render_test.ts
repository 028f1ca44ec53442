/** What the backup CLI prints (lib/cli/backup_render.ts), from the API's answers, uncoloured. */
import assert from "node:assert/strict";
import {
  bytes,
  progressLine,
  renderDiff,
  renderList,
  renderView,
  reportLines,
} from "../../lib/cli/backup_render.ts";
import { style } from "../../lib/cli/common.ts";
import type { BackupMeta } from "../../lib/backup/store.ts";
import { diffSnapshots, diffSummary } from "../../lib/backup/diff.ts";
import { idleProgress, progressBar } from "../../lib/jobs/progress.ts";
import { sampleSnapshot } from "../backup/_sample.ts";

const plain = style(false);
const T = Date.UTC(2026, 0, 2, 3, 4, 5);

const meta = (over: Partial<BackupMeta> = {}): BackupMeta => ({
  id: "abc123xyz",
  guildId: "200000000000000001",
  label: "before cleanup",
  authorId: "1",
  authorName: "ada",
  source: "command",
  createdAt: T,
  completedAt: T,
  checksum: "f".repeat(64),
  sizeRaw: 4096,
  sizeCompressed: 2 * 1024 * 1024,
  memberCount: 90,
  roleCount: 3,
  channelCount: 5,
  pinned: false,
  note: null,
  runId: null,
  ...over,
});

Deno.test("backup render: sizes, the list and one backup", () => {
  assert.deepEqual([bytes(512), bytes(1536), bytes(3 * 1024 * 1024)], [
    "512 B",
    "1.5 KiB",
    "3.00 MiB",
  ]);
  assert.equal(renderList("g", [], plain), "No backups of g yet. Run `backup create`.");
  const list = renderList("g", [meta(), meta({ id: "def456uvw", pinned: true })], plain).split(
    "\n",
  );
  assert.equal(list[0], "ID         CREATED                  LABEL           BY   MEMBERS  SIZE");
  assert.equal(
    list[2],
    "def456uvw  2026-01-02 03:04:05 UTC  before cleanup  ada  90       2.00 MiB  pinned",
  );
  assert.equal(list.at(-1), "2 backups of g");
  const view = renderView(
    {
      backup: meta({ note: "keep", pinned: true }),
      counts: null,
      problem: "bad bytes",
      storedParts: 1,
    },
    plain,
  );
  assert.match(view, /^Backup abc123xyz {2}\(pinned\)\n {2}label {5}before cleanup/);
  assert.match(view, /size {6}4\.0 KiB raw, 2\.00 MiB compressed/);
  assert.match(view, /note {6}keep\n {2}problem {3}bad bytes$/);
});

Deno.test("backup render: a diff, and none", () => {
  const a = sampleSnapshot();
  const same = diffSnapshots(a, structuredClone(a));
  const side = { backupId: "abc123xyz", label: "x", createdAt: T };
  const from = { ...side };
  const live = { backupId: null, label: "live server", createdAt: T };
  assert.equal(
    renderDiff({ from, to: live, diff: same, summary: diffSummary(same) }, plain),
    "Diff abc123xyz (x) → live server\n✔ No differences.",
  );
  const b = structuredClone(a);
  b.roles = b.roles.filter((r) => r.name !== "Members");
  b.guild.verification_level = 3;
  const d = diffSnapshots(a, b);
  const text = renderDiff({ from, to: live, diff: d, summary: diffSummary(d) }, plain);
  assert.match(text, /~ setting verification_level: 1 → 3/);
  assert.match(text, /- role Members \d+/);
  assert.ok(text.endsWith(diffSummary(d).join("\n")), text);
});

Deno.test("backup render: a restore's report, the progress line and the bar", () => {
  const lines = reportLines({
    backupId: "abc123xyz",
    parts: ["roles"],
    rewind: false,
    created: { roles: 2 },
    skipped: {},
    failed: { roles: 1 },
    members: {},
    problems: ["role X: missing access"],
  }, plain);
  assert.deepEqual(lines, [
    "  created   roles 2",
    "  skipped   none",
    "  members   none",
    "  failed    roles 1",
    "    - role X: missing access",
  ]);
  const p = {
    ...idleProgress("backup_capture", "g"),
    state: "running" as const,
    processed: 25,
    total: 100,
    chunk: 1,
    ratePerSecond: 50,
    etaSeconds: 2,
  };
  const st = {
    guildId: "g",
    job: "capture" as const,
    progress: p,
    backupId: null,
    label: null,
    phase: "members",
    report: null,
  };
  assert.equal(
    progressLine("capture", st),
    "capture: running · phase members · members 25/100 (25%) · chunk 1 · 50/s · ETA 2s",
  );
  // The CLI draws the jobs' bar (lib/jobs/progress.ts) in these glyphs.
  assert.equal(progressBar(p, 8), "██░░░░░░");
});
