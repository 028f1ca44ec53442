/**
 * lib/commands/backup/common.ts: what /backup's parts share. Sizes and times in the language,
 * refusals worded from the Reason an error carries (any other error rethrown), the backups check,
 * the id option's check and suggestions, and Discord markdown escaped in what members typed.
 */
import assert from "node:assert/strict";
import { withKv } from "../../kv/_kv.ts";
import { memoryDeps } from "../../_deps.ts";
import { GUILD, handCtx, USER } from "./_ctx.ts";
import { newBackup } from "../../backup/_new_backup.ts";
import { sampleSnapshot } from "../../backup/_sample.ts";
import { canonicalBytes } from "../../../lib/backup/model.ts";
import { BackupNotFoundError, saveBackup, setPinned } from "../../../lib/backup/store.ts";
import { setFlag } from "../../../lib/ops/flags.ts";
import { readAudit } from "../../../lib/audit/mod.ts";
import { t } from "../../../lib/i18n/mod.ts";
import {
  actorOf,
  audit,
  backupChoices,
  backupsOn,
  button,
  capitalise,
  checkId,
  escape,
  n,
  refusalText,
  rel,
  row,
  size,
  stateWord,
  ts,
} from "../../../lib/commands/backup/common.ts";
import type { AutocompleteContext } from "../../../lib/interactions/context.ts";

const LIMITS = { maxPerGuild: 50, cooldownS: 0, retentionDays: 0 };

Deno.test("size: bytes, KiB with one decimal, MiB with two, in the language's format", () => {
  assert.equal(size(0, "en"), "0 B");
  assert.equal(size(1023, "en"), "1023 B");
  assert.equal(size(1536, "en"), "1.5 KiB");
  assert.equal(size(1536, "es"), "1,5 KiB");
  assert.equal(size(5 * 1024 * 1024, "en"), "5.00 MiB");
  assert.equal(size(12_345 * 1024 * 1024, "es"), "12.345,00 MiB");
});

Deno.test("ts and rel: Discord timestamps, to the whole second", () => {
  assert.equal(ts(1_700_000_000_999), "<t:1700000000:f>");
  assert.equal(rel(1_700_000_000_999), "<t:1700000000:R>");
});

Deno.test("n, capitalise, escape: counts, a first capital, markdown shown as typed", () => {
  assert.equal(n("en", 12_345), "12,345");
  assert.equal(n("es", 2150), "2150");
  assert.equal(capitalise("abc"), "Abc");
  assert.equal(capitalise(""), "");
  assert.equal(escape("a*b_c`d~e|f>g"), "a\\*b\\_c\\`d\\~e\\|f\\>g");
  assert.equal(escape("plain"), "plain");
});

Deno.test("refusalText: an error's Reason as a sentence in the language", () => {
  const e = new BackupNotFoundError("abcdef");
  assert.equal(refusalText(e, "en"), capitalise(e.message) + ".");
  assert.notEqual(refusalText(e, "es"), refusalText(e, "en"));
  assert.match(refusalText(e, "es"), /^No hay .*abcdef.*\.$/);
});

Deno.test("backup refusals: the command rethrows an error without a Reason", () => {
  const boom = new Error("boom");
  assert.throws(() => refusalText(boom, "es"), (e) => e === boom);
});

Deno.test("stateWord: a job state in the language; an unknown one as it is", () => {
  assert.equal(stateWord("running", "en"), t("en", "job.state.running"));
  assert.equal(stateWord("running", "es"), t("es", "job.state.running"));
  assert.equal(stateWord("sideways", "es"), "sideways");
});

Deno.test("checkId: a backup id passes; anything else is refused, shown cut to 30 characters", () => {
  assert.equal(checkId("abcdef12", "en"), null);
  assert.equal(checkId("ABC!", "en"), t("en", "backup.bad_id", { id: "ABC!" }));
  assert.equal(checkId("x".repeat(40), "en"), t("en", "backup.bad_id", { id: "x".repeat(30) }));
  assert.equal(checkId("abc", "en"), t("en", "backup.bad_id", { id: "abc" }), "too short");
});

Deno.test("button and row: a Discord button and the row that holds them", () => {
  const b = button("id-1", "Go", 4);
  assert.deepStrictEqual(b, { type: 2, custom_id: "id-1", label: "Go", style: 4, disabled: false });
  assert.equal(button("id-2", "No", 2, true).disabled, true);
  assert.deepStrictEqual(row(b), { type: 1, components: [b] });
});

Deno.test("backupsOn: the flag's check for the command's guild; null when off or outside a guild", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    assert.equal(await backupsOn(handCtx(deps)), true);
    assert.equal(await backupsOn(handCtx(deps, { guildId: null })), null);
    await setFlag(kv, GUILD, "backups", false);
    assert.equal(await backupsOn(handCtx(deps)), null);
  }));

Deno.test("actorOf and audit: the member who acted, on the guild's audit log", () =>
  withKv(async (kv) => {
    const ctx = handCtx(memoryDeps(kv));
    assert.deepStrictEqual(actorOf(ctx), { id: USER.id, name: USER.username });
    await audit(ctx, "backup.test", { x: 1 });
    const [entry] = (await readAudit(kv, GUILD, { limit: 5 })).entries;
    assert.deepStrictEqual([entry.action, entry.actor, entry.detail], [
      "backup.test",
      { id: USER.id, name: USER.username },
      { x: 1 },
    ]);
  }));

Deno.test("backupChoices: by id or label as typed, pinned marked, at most 25, none outside a guild", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const bytes = canonicalBytes(sampleSnapshot());
    const at = Date.UTC(2026, 0, 2, 3, 4);
    for (let i = 0; i < 30; i++) {
      const id = `bk${String(i).padStart(6, "0")}`;
      await saveBackup(kv, { ...newBackup(id, at + i), label: `Nightly ${i}` }, bytes, LIMITS, at);
    }
    await saveBackup(
      kv,
      { ...newBackup("zzzzzz01", at), label: "Before *reorg*" },
      bytes,
      LIMITS,
      at,
    );
    await setPinned(kv, GUILD, "zzzzzz01", true);
    const ctx = (guildId?: string) => ({ deps, guildId }) as unknown as AutocompleteContext;

    const reorg = await backupChoices(ctx(GUILD), "REORG");
    assert.deepStrictEqual(reorg, [
      { name: "📌 Before *reorg* · 2026-01-02 03:04 · zzzzzz01", value: "zzzzzz01" },
    ]);
    assert.deepStrictEqual(
      (await backupChoices(ctx(GUILD), "bk00001")).map((c) => c.value).sort(),
      Array.from({ length: 10 }, (_, i) => `bk00001${i}`),
    );
    assert.equal((await backupChoices(ctx(GUILD), "")).length, 25);
    assert.deepStrictEqual(await backupChoices(ctx(undefined), ""), []);
  }));
