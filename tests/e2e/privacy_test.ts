/**
 * /privacy through the app, across every store that keeps something about a member: the view
 * lists each source in order, and delete removes what is not needed and says what stays (the
 * per-guild holder index, the last run's sample, the member index and score-change queue, the
 * setup author, audit entries and backups). Each source on its own is tested under tests/privacy/.
 */
import assert from "node:assert/strict";
import {
  commandInteraction,
  createTestApp,
  GUILD_ID,
  subcommand,
  type TestApp,
  USER_ID,
} from "../_harness.ts";
import { keys } from "../../lib/kv/keys.ts";
import { appendAudit } from "../../lib/audit/mod.ts";
import { saveBackup } from "../../lib/backup/store.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { sampleSnapshot } from "../backup/_sample.ts";
import { newBackup } from "../backup/_new_backup.ts";
import { holderKey } from "../../lib/sync/holders.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { updateSetup } from "../../lib/guilds/setup.ts";
import { IndexBuilder, isIndexed, lookupMembers, rolesKeyOf } from "../../lib/sync/member_index.ts";
import { freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import { runRecord } from "../jobs/_run.ts";

/** Posts a command and returns the text its deferred reply was edited to. */
async function run(t: TestApp, name: string) {
  t.clock.advance(2_000);
  const res = await (await t.post(commandInteraction("privacy", subcommand(name)))).json();
  assert.deepStrictEqual(res.type, 5, "deferred");
  await t.settle();
  const edit = t.calls.filter((c) => c.method === "PATCH" && c.path.endsWith("/@original")).at(-1);
  return (edit?.body as { content: string }).content;
}

/** Every source /privacy view lists, in its order, each with nothing stored. */
const NOTHING: Record<string, string[]> = {
  "Cached Ethos score": ["nothing"],
  "Cached Ethos profile": ["nothing"],
  "Command cooldowns": ["nothing"],
  "Interaction records": ["nothing"],
  "Ethos linked role connection": ["nothing"],
  "Role sync index (validator and human roles)": ["nothing"],
  "Role sync member index and score-change queue": ["nothing"],
  "Last role sync run (its summary sample)": ["nothing"],
  "Audit log entries": ["nothing"],
  "Server backups": ["nothing"],
  "This server's Ethos setup": ["nothing"],
};

/** The view's sections in order: each source's name and its item lines (without "- "). */
function sections(view: string): [string, string[]][] {
  const [intro, ...lines] = view.split("\n");
  assert.deepStrictEqual(intro, "Here is everything the bot stores about you:");
  const out: [string, string[]][] = [];
  for (const line of lines) {
    const head = /^\*\*(.+?)\*\* \(kept .+\)$/.exec(line);
    if (head) out.push([head[1], []]);
    else {
      assert.ok(out.length > 0 && line.startsWith("- "), `unexpected line ${JSON.stringify(line)}`);
      out.at(-1)![1].push(line.slice(2));
    }
  }
  return out;
}

/** Asserts the view lists every source in order, with `held` items and nothing for the rest. */
function assertView(view: string, held: Record<string, string[]>): void {
  assert.deepStrictEqual(sections(view), Object.entries({ ...NOTHING, ...held }));
}

/** The "Deleted:" lines of /privacy delete: the eight sources a member can delete (listed first). */
function deletedLines(counts: Record<string, number>): string[] {
  return [
    "Deleted:",
    ...Object.keys(NOTHING).slice(0, 8).map((n) =>
      `- ${n}: ${counts[n] ?? 0} ${counts[n] === 1 ? "entry" : "entries"}`
    ),
  ];
}

const KEPT_AUDIT =
  "- **Audit log entries**: the audit log is the server's tamper-evident record of admin actions; removing an entry would break its hash chain (kept until an admin sets AUDIT_RETENTION_DAYS)";
const KEPT_BACKUPS =
  "- **Server backups**: a restore puts members' roles back from them; they go with the backup (kept until the backup is deleted)";
const KEPT_SETUP =
  "- **This server's Ethos setup**: the server's configuration records who changed it last (the audit log keeps the history) (kept until the next change to the setup)";
const ETHOS_AGAIN = "Your Ethos score will be looked up again the next time your roles are synced.";
const iso = (ms: number) => new Date(ms).toISOString();
/** The view's own use of /privacy: every view counts one use and leaves one record. */
const OWN = {
  "Command cooldowns": ["/privacy: 1 recent uses"],
  "Interaction records": [
    "1 recent interactions (the bot's replies, kept to answer repeated deliveries)",
  ],
};

Deno.test("/privacy view shows everything stored; delete removes what is not needed and says what stays", async () => {
  const t = await createTestApp();
  const start = t.clock.now();
  try {
    // Some data about the member: a cached score, cooldown hits, interaction records, an audit
    // entry naming them, and a backup holding their roles.
    await t.deps.kv.set(keys.ethosScore(USER_ID), { s: 1650, x: t.clock.now() + 3_600_000 });
    // A profile card cached by an /ethos lookup of the member.
    await t.deps.kv.set(keys.ethosProfile(`discord:${USER_ID}`), {
      expiresAt: t.clock.now() + 60_000,
      value: { kind: "profile", profile: {} },
    });
    const other = "300000000000000777";
    await t.deps.kv.set(keys.ethosScore(other), { s: 900, x: t.clock.now() + 3_600_000 });
    await appendAudit(t.deps, {
      guildId: GUILD_ID,
      actor: { id: USER_ID, name: "tester" },
      action: "config.allow_list",
      detail: { command: "ethos_sync" },
    });
    const snapshot = sampleSnapshot();
    snapshot.members.push({ id: USER_ID, roles: ["210000000000000001", "210000000000000002"] });
    await saveBackup(
      t.deps.kv,
      { ...newBackup("bk0001", t.clock.now()), guildId: GUILD_ID, label: "nightly" },
      canonicalBytes(snapshot),
      { maxPerGuild: 25, cooldownS: 0, retentionDays: 0 },
      t.clock.now(),
    );

    const view = await run(t, "view");
    const day = iso(start).slice(0, 10);
    assertView(view, {
      "Cached Ethos score": [`score 1650, cached until ${iso(start + 3_600_000)}`],
      "Cached Ethos profile": [`your Ethos profile card, cached until ${iso(start + 60_000)}`],
      ...OWN,
      "Audit log entries": [`1 entries name you, e.g. config.allow_list (${day})`],
      "Server backups": [`your 2 roles in backup nightly (${day})`],
    });

    const del = await run(t, "delete");
    assert.deepStrictEqual(del.split("\n"), [
      ...deletedLines({
        "Cached Ethos score": 1,
        "Cached Ethos profile": 1,
        // One key for /privacy, holding the view's and the delete's uses.
        "Command cooldowns": 1,
        // The view's record and the delete's own claim.
        "Interaction records": 2,
      }),
      "Kept, and why:",
      KEPT_AUDIT,
      KEPT_BACKUPS,
      ETHOS_AGAIN,
    ]);
    assert.deepStrictEqual(
      (await t.deps.kv.get(keys.ethosProfile(`discord:${USER_ID}`))).versionstamp,
      null,
    );
    assert.deepStrictEqual((await t.deps.kv.get(keys.ethosScore(USER_ID))).versionstamp, null);
    // Another member's data is untouched.
    assert.deepStrictEqual((await t.deps.kv.get(keys.ethosScore(other))).value, {
      s: 900,
      x: start + 3_600_000,
    });

    const after = sections(await run(t, "view"));
    const afterOf = (name: string) => after.find(([n]) => n === name)?.[1];
    assert.deepStrictEqual(afterOf("Cached Ethos score"), ["nothing"]);
    assert.deepStrictEqual(afterOf("Cached Ethos profile"), ["nothing"]);
    // Only this view's use is left: the earlier two went with the deletion.
    assert.deepStrictEqual(afterOf("Command cooldowns"), ["/privacy: 1 recent uses"]);
    // (Interaction records: this view's, and maybe the delete's reply, recorded after it ran.)
    assert.deepStrictEqual(afterOf("Audit log entries"), [
      `1 entries name you, e.g. config.allow_list (${day})`,
    ]);
    assert.deepStrictEqual(afterOf("Server backups"), [`your 2 roles in backup nightly (${day})`]);
  } finally {
    await t.close();
  }
});

Deno.test("/privacy covers per-guild data: the holder index and the last run's sample go, the setup author stays", async () => {
  const t = await createTestApp();
  try {
    const other = "300000000000000777";
    await t.deps.kv.set(holderKey(GUILD_ID, USER_ID), 1);
    await t.deps.kv.set(holderKey(GUILD_ID, other), 1);
    const record = runRecord({
      kind: SYNC_KIND,
      key: GUILD_ID,
      counters: { changed: 2 },
      startedAt: t.clock.now(),
      sample: [
        { userId: USER_ID, username: "tester", add: ["Known"], remove: [] },
        { userId: other, username: "someone", add: [], remove: ["Known"] },
      ],
    });
    await t.deps.kv.set(keys.jobRun(SYNC_KIND, GUILD_ID), record);
    await updateSetup(t.deps, GUILD_ID, { id: USER_ID }, "log", (s) => s);

    const view = await run(t, "view");
    assertView(view, {
      ...OWN,
      "Role sync index (validator and human roles)": [
        "listed as holding a validator or human role here, so the hourly sync re-checks it",
      ],
      "Last role sync run (its summary sample)": [
        `named among the members the run of ${
          iso(record.startedAt)
        } changed (user id, name, roles added and removed)`,
      ],
      // The setup change wrote an audit entry naming its author.
      "Audit log entries": [
        `1 entries name you, e.g. setup.log (${iso(record.startedAt).slice(0, 10)})`,
      ],
      "This server's Ethos setup": ["you made its latest change (version 1)"],
    });

    const del = await run(t, "delete");
    assert.deepStrictEqual(del.split("\n"), [
      ...deletedLines({
        "Command cooldowns": 1,
        "Interaction records": 2,
        "Role sync index (validator and human roles)": 1,
        "Last role sync run (its summary sample)": 1,
      }),
      "Kept, and why:",
      KEPT_AUDIT,
      KEPT_SETUP,
      ETHOS_AGAIN,
    ]);
    assert.deepStrictEqual((await t.deps.kv.get(holderKey(GUILD_ID, USER_ID))).versionstamp, null);
    // Other members' entries are untouched.
    assert.ok((await t.deps.kv.get(holderKey(GUILD_ID, other))).versionstamp !== null);
    const left = (await t.deps.kv.get<RunRecord>(keys.jobRun(SYNC_KIND, GUILD_ID))).value!;
    assert.deepStrictEqual(left.sample.map((s) => (s as { userId: string }).userId), [other]);
    assert.deepStrictEqual(left.counters, { changed: 2 });
  } finally {
    await t.close();
  }
});

Deno.test("/privacy covers the member index and the score-change queue", async () => {
  const t = await createTestApp();
  try {
    const other = "300000000000000777";
    const role = "210000000000000001";
    const relevant = new Set([role]);
    const b = new IndexBuilder(t.deps.kv, GUILD_ID, "r1", relevant, "0");
    b.add(USER_ID, [role]);
    b.add(other, [role]);
    await b.end(true, t.clock.now());
    await t.deps.kv.set(freshKeys.backlog(GUILD_ID, USER_ID), { updatedAt: 1, queuedAt: 2 });
    await t.deps.kv.set(freshKeys.seen(USER_ID), 1);

    const view = await run(t, "view");
    assertView(view, {
      ...OWN,
      "Role sync member index and score-change queue": [
        "listed as a member of this server with the Ethos roles you hold, so a score change reaches your roles within minutes",
        "a change of your Ethos score waiting to be written to your roles here",
        "the time of your latest Ethos score change (so it is applied once)",
      ],
    });

    const del = await run(t, "delete");
    assert.deepStrictEqual(del.split("\n"), [
      ...deletedLines({
        "Command cooldowns": 1,
        "Interaction records": 2,
        // The index entry, the queued change and the change time.
        "Role sync member index and score-change queue": 3,
      }),
      "Nothing else is stored about you.",
      ETHOS_AGAIN,
    ]);
    const key = rolesKeyOf(relevant);
    const now = t.clock.now();
    const found = await lookupMembers(t.deps.kv, GUILD_ID, [USER_ID, other], key, now);
    assert.deepStrictEqual(found.get(USER_ID), { state: "absent" });
    assert.deepStrictEqual(found.get(other), { state: "member", roles: [role] });
    assert.deepStrictEqual(await isIndexed(t.deps.kv, GUILD_ID, USER_ID), false);
    assert.deepStrictEqual(
      (await t.deps.kv.get(freshKeys.backlog(GUILD_ID, USER_ID))).versionstamp,
      null,
    );
    assert.deepStrictEqual((await t.deps.kv.get(freshKeys.seen(USER_ID))).versionstamp, null);
  } finally {
    await t.close();
  }
});
