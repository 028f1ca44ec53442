import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
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
import { holderKey } from "../../lib/sync/holders.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { updateSetup } from "../../lib/guilds/setup.ts";

/** Posts a command and returns the text its deferred reply was edited to. */
async function run(t: TestApp, name: string) {
  t.clock.advance(2_000);
  const res = await (await t.post(commandInteraction("privacy", subcommand(name)))).json();
  assertEquals(res.type, 5, "deferred");
  await t.settle();
  const edit = t.calls.filter((c) => c.method === "PATCH" && c.path.endsWith("/@original")).at(-1);
  return (edit?.body as { content: string }).content;
}

import { IndexBuilder, isIndexed, lookupMembers, rolesKeyOf } from "../../lib/sync/member_index.ts";
import { freshKeys } from "../../lib/sync/fresh_backlog.ts";
Deno.test("/privacy view shows everything stored; delete removes what is not needed and says what stays", async () => {
  const t = await createTestApp();
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
      {
        id: "bk0001",
        guildId: GUILD_ID,
        label: "nightly",
        authorId: "1",
        authorName: "a",
        source: "command",
        createdAt: t.clock.now(),
        memberCount: snapshot.members.length,
        roleCount: 1,
        channelCount: 1,
        runId: null,
      },
      canonicalBytes(snapshot),
      { maxPerGuild: 25, cooldownS: 0, retentionDays: 0 },
      t.clock.now(),
    );

    const view = await run(t, "view");
    assertStringIncludes(view, "score 1650");
    assertStringIncludes(view, "your Ethos profile card, cached until");
    assertStringIncludes(view, "recent uses");
    assertStringIncludes(view, "recent interactions");
    assertStringIncludes(view, "1 entries name you, e.g. config.allow_list");
    assertStringIncludes(view, "your 2 roles in backup nightly");

    const del = await run(t, "delete");
    assertStringIncludes(del, "Cached Ethos score: 1 entry");
    assertStringIncludes(del, "Cached Ethos profile: 1 entry");
    assertEquals((await t.deps.kv.get(keys.ethosProfile(`discord:${USER_ID}`))).versionstamp, null);
    assertStringIncludes(del, "Command cooldowns:");
    assertStringIncludes(
      del,
      "**Audit log entries**: the audit log is the server's tamper-evident record",
    );
    assertStringIncludes(del, "**Server backups**: a restore puts members' roles back");
    assertEquals((await t.deps.kv.get(keys.ethosScore(USER_ID))).versionstamp, null);
    // Another member's data is untouched.
    assert((await t.deps.kv.get(keys.ethosScore(other))).versionstamp !== null);

    const after = await run(t, "view");
    assert(!after.includes("score 1650"));
    assertStringIncludes(after, "your 2 roles in backup nightly");
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
    const record: RunRecord = {
      v: 1,
      kind: SYNC_KIND,
      key: GUILD_ID,
      runId: "r1",
      state: "completed",
      mode: "full",
      dryRun: false,
      processed: 2,
      skippedByIndex: 0,
      total: 2,
      counters: { changed: 2 },
      chunk: 1,
      chunkSize: 1000,
      cursor: null,
      startedAt: t.clock.now(),
      updatedAt: t.clock.now(),
      chunkStartedAt: null,
      finishedAt: t.clock.now(),
      activeMs: 10,
      autoContinue: false,
      lastError: null,
      warnings: [],
      sample: [
        { userId: USER_ID, username: "tester", add: ["Known"], remove: [] },
        { userId: other, username: "someone", add: [], remove: ["Known"] },
      ],
      checkpoint: null,
    };
    await t.deps.kv.set(keys.jobRun(SYNC_KIND, GUILD_ID), record);
    await updateSetup(t.deps, GUILD_ID, { id: USER_ID }, "log", (s) => s);

    const view = await run(t, "view");
    assertStringIncludes(view, "listed as holding a validator or human role here");
    assertStringIncludes(view, "named among the members the run of");
    assertStringIncludes(view, "you made its latest change (version 1)");

    const del = await run(t, "delete");
    assertStringIncludes(del, "Role sync index (validator and human roles): 1 entry");
    assertStringIncludes(del, "Last role sync run (its summary sample): 1 entry");
    assertStringIncludes(del, "**This server's Ethos setup**: the server's configuration records");
    assertEquals((await t.deps.kv.get(holderKey(GUILD_ID, USER_ID))).versionstamp, null);
    // Other members' entries are untouched.
    assert((await t.deps.kv.get(holderKey(GUILD_ID, other))).versionstamp !== null);
    const left = (await t.deps.kv.get<RunRecord>(keys.jobRun(SYNC_KIND, GUILD_ID))).value!;
    assertEquals(left.sample.map((s) => (s as { userId: string }).userId), [other]);
    assertEquals(left.counters, { changed: 2 });
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
    assertStringIncludes(view, "listed as a member of this server with the Ethos roles you hold");
    assertStringIncludes(view, "a change of your Ethos score waiting to be written");
    assertStringIncludes(view, "the time of your latest Ethos score change");

    const del = await run(t, "delete");
    assertStringIncludes(del, "Role sync member index and score-change queue: 3 entries");
    const key = rolesKeyOf(relevant);
    const now = t.clock.now();
    const found = await lookupMembers(t.deps.kv, GUILD_ID, [USER_ID, other], key, now);
    assertEquals(found.get(USER_ID), { state: "absent" });
    assertEquals(found.get(other), { state: "member", roles: [role] });
    assertEquals(await isIndexed(t.deps.kv, GUILD_ID, USER_ID), false);
    assertEquals((await t.deps.kv.get(freshKeys.backlog(GUILD_ID, USER_ID))).versionstamp, null);
    assertEquals((await t.deps.kv.get(freshKeys.seen(USER_ID))).versionstamp, null);
  } finally {
    await t.close();
  }
});
