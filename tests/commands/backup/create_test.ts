/**
 * lib/commands/backup/create.ts: /backup create's answer once the capture's first chunk is over:
 * the backup made, still capturing (a guild that takes more than a chunk), the capture failed, or
 * why it could not start, each in the member's language.
 */
import assert from "node:assert/strict";
import { refusedBy, withGuild } from "../../backup/_jobs.ts";
import { GUILD, handCtx } from "./_ctx.ts";
import type { ManualClock } from "../../_clock.ts";
import { listBackups } from "../../../lib/backup/store.ts";
import type { BackupsOn } from "../../../lib/backup/preflight.ts";
import { t } from "../../../lib/i18n/mod.ts";
import { size } from "../../../lib/commands/backup/common.ts";
import { createBackup } from "../../../lib/commands/backup/create.ts";

const ON = true as BackupsOn;

Deno.test("createBackup: the backup made, its label escaped, its figures in the language", () =>
  withGuild({ members: 12 }, async ({ deps, kv }) => {
    const text = await createBackup(handCtx(deps, { language: "es" }), "*nightly*", ON);
    const [meta] = await listBackups(kv, GUILD);
    assert.equal(meta.label, "*nightly*");
    assert.equal(meta.source, "command");
    assert.equal(
      text,
      t("es", "backup.created", {
        id: meta.id,
        label: "\\*nightly\\*",
        members: String(meta.memberCount),
        roles: String(meta.roleCount),
        channels: String(meta.channelCount),
        size: size(meta.sizeCompressed, "es"),
      }),
    );
  }));

Deno.test("createBackup: a start refused says why, in the language", () =>
  withGuild({ members: 3 }, async ({ deps, kv }) => {
    const down = { ...deps, shutdown: AbortSignal.abort() };
    const text = await createBackup(handCtx(down, { language: "es" }), undefined, ON);
    assert.equal(
      text,
      t("es", "backup.could_not_start", { reason: t("es", "reason.shutting_down") }),
    );
    assert.deepStrictEqual(await listBackups(kv, GUILD), []);
  }));

/** Refuses the guild read with 403 Missing Access; the rest goes to the emulator. */
const noGuild = refusedBy(
  (req) => req.method === "GET" && /\/guilds\/\d+$/.test(new URL(req.url).pathname),
  { message: "Missing Access", code: 50001 },
);

Deno.test("createBackup: a capture that fails says what went wrong", () =>
  withGuild({ members: 3 }, async ({ deps }) => {
    const text = await createBackup(handCtx(deps), undefined, ON);
    assert.ok(text.startsWith(t("en", "backup.failed", { error: "" })), text);
    assert.match(text, /403 50001 Missing Access/);
  }, { fetch: noGuild }));

/** Moves `clock` past the chunk's time box once the first member page is read. */
function slowMembers(clock: { it?: ManualClock }): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    if (/\/guilds\/\d+\/members$/.test(new URL(req.url).pathname)) clock.it?.advance(60 * 60_000);
    return res;
  };
}

const clock: { it?: ManualClock } = {};

Deno.test("createBackup: a guild that takes more than a chunk is still capturing, with its count", () =>
  withGuild({ members: 1_100 }, async ({ deps, kv }) => {
    clock.it = deps.clock;
    const text = await createBackup(handCtx(deps), "big", ON);
    assert.ok(text.includes("1000/"), text);
    assert.deepStrictEqual(await listBackups(kv, GUILD), [], "not stored yet");
    assert.equal(
      text,
      t("en", "backup.capturing", {
        id: /`([a-z0-9]+)`/.exec(text)?.[1] ?? "?",
        count: text.match(/1000\/\d+/)![0],
      }),
    );
  }, { fetch: slowMembers(clock) }));
