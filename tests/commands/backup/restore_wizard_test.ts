/**
 * lib/commands/backup/restore_wizard.ts: the parts as bits of a mask carried in the buttons'
 * state, the menu's toggles (rewind only with member roles, review only with a part), the review
 * of what the restore would do against the live server, and the confirmation that starts it.
 */
import assert from "node:assert/strict";
import { withKv } from "../../kv/_kv.ts";
import { memoryDeps } from "../../_deps.ts";
import { answered, buttonsOf, GUILD, handCtx, USER } from "./_ctx.ts";
import { captureNow, WHO, withGuild } from "../../backup/_jobs.ts";
import { newBackup } from "../../backup/_new_backup.ts";
import { sampleSnapshot } from "../../backup/_sample.ts";
import { canonicalBytes } from "../../../lib/backup/model.ts";
import { type BackupMeta, saveBackup } from "../../../lib/backup/store.ts";
import { jobStatus } from "../../../lib/backup/service.ts";
import { t } from "../../../lib/i18n/mod.ts";
import {
  ALL_PARTS,
  confirmRestore,
  menuStep,
  parseMaskState,
  PART_BIT,
  partsOf,
  restoreMenu,
  REWIND_BIT,
} from "../../../lib/commands/backup/restore_wizard.ts";

const LIMITS = { maxPerGuild: 50, cooldownS: 0, retentionDays: 0 };

async function stored(kv: Deno.Kv): Promise<BackupMeta> {
  return await saveBackup(
    kv,
    newBackup("bk000001", Date.UTC(2026, 0, 1)),
    canonicalBytes(sampleSnapshot()),
    LIMITS,
    Date.UTC(2026, 0, 1),
  );
}

Deno.test("partsOf: each bit is one part, in the restore's order; rewind is none of them", () => {
  assert.deepStrictEqual(partsOf(ALL_PARTS), [
    "roles",
    "categories",
    "channels",
    "members",
    "settings",
  ]);
  assert.deepStrictEqual(partsOf(PART_BIT.members | PART_BIT.roles | REWIND_BIT), [
    "roles",
    "members",
  ]);
  assert.deepStrictEqual(partsOf(0), []);
  assert.deepStrictEqual(partsOf(REWIND_BIT), []);
});

Deno.test("parseMaskState: a backup id and a mask of 0..63, anything else refused", () => {
  assert.deepStrictEqual(parseMaskState("bk000001.31"), { id: "bk000001", mask: 31 });
  assert.deepStrictEqual(parseMaskState("bk000001.0"), { id: "bk000001", mask: 0 });
  for (
    const bad of [
      "bk000001.64",
      "bk000001.-1",
      "bk000001.1x",
      "bk000001",
      "BK!.3",
      ".3",
      "",
    ]
  ) {
    assert.equal(parseMaskState(bad), null, bad);
  }
});

Deno.test("restoreMenu: a toggle per part that flips its bit; rewind and review as the mask allows", () =>
  withKv(async (kv) => {
    const meta = await stored(kv);
    const ctx = handCtx(memoryDeps(kv));
    const all = buttonsOf(await restoreMenu(ctx, meta, ALL_PARTS));
    assert.deepStrictEqual(all.map((b) => [b.label, b.custom_id, b.disabled]), [
      ["✅ Roles", `rt|bk000001.${ALL_PARTS ^ 1}`, false],
      ["✅ Categories", `rt|bk000001.${ALL_PARTS ^ 2}`, false],
      ["✅ Channels", `rt|bk000001.${ALL_PARTS ^ 4}`, false],
      ["✅ Member roles", `rt|bk000001.${ALL_PARTS ^ 8}`, false],
      ["✅ Settings", `rt|bk000001.${ALL_PARTS ^ 16}`, false],
      ["⏪ Rewind: off", `rt|bk000001.${ALL_PARTS | REWIND_BIT}`, false],
      ["Review…", `rr|bk000001.${ALL_PARTS}`, false],
      ["Cancel", "rx|bk000001", false],
    ]);

    const rolesOnly = await restoreMenu(ctx, meta, PART_BIT.roles | REWIND_BIT);
    const b = buttonsOf(rolesOnly);
    assert.deepStrictEqual(b.slice(0, 5).map((x) => x.label![0]), ["✅", "⬜", "⬜", "⬜", "⬜"]);
    assert.deepStrictEqual([b[5].label, b[5].disabled], ["⏪ Rewind: on", true], "no member roles");
    assert.match(rolesOnly.embeds![0].description!, /\*\*Restoring:\*\* Roles/);

    const none = await restoreMenu(ctx, meta, 0);
    assert.equal(buttonsOf(none)[6].disabled, true, "nothing to review");
    assert.ok(none.embeds![0].description!.includes(t("en", "backup.restoring", {
      parts: t("en", "backup.nothing"),
    })));
  }));

Deno.test("menuStep and confirmRestore: a state that does not parse has expired", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const expired = { content: t("en", "backup.expired"), embeds: [], components: [] };
    for (const step of ["menu", "review"] as const) {
      const r = answered(await menuStep(handCtx(deps, { state: "nope" }), step));
      assert.deepStrictEqual(r, { kind: "update", data: expired });
    }
    const c = answered(await confirmRestore(handCtx(deps, { state: "bk000001.99" })));
    assert.deepStrictEqual(c, { kind: "update", data: expired });
  }));

Deno.test("menuStep: an unknown backup is refused in the member's language", () =>
  withKv(async (kv) => {
    const r = answered(
      await menuStep(handCtx(memoryDeps(kv), { state: "bk000009.31", language: "es" }), "menu"),
    );
    assert.equal(r.kind, "update");
    assert.match(r.data.content!, /^No hay ninguna copia con el id bk000009/);
  }));

Deno.test("menuStep review: what the restore would do against the live server, then confirm", () =>
  withGuild({ members: 8, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    emu.state.deleteRole(GUILD, emu.state.guild(GUILD).extraRoles[0]);
    const mask = PART_BIT.roles | PART_BIT.members | REWIND_BIT;
    const r = answered(
      await menuStep(handCtx(deps, { state: `${WHO.backupId}.${mask}` }), "review"),
    );
    const text = r.data.embeds![0].description!;
    assert.equal(r.data.embeds![0].title, t("en", "backup.confirm_title"));
    assert.ok(text.includes(t("en", "backup.review_roles", { count: "1" })), text);
    assert.ok(text.includes(t("en", "backup.review_rewind")), text);
    assert.ok(!text.includes("missing categories"), "only the parts chosen");
    assert.deepStrictEqual(buttonsOf(r.data).map((b) => [b.custom_id, b.style]), [
      [`rc|${WHO.backupId}.${mask}`, 4],
      [`rt|${WHO.backupId}.${mask}`, 2],
      [`rx|${WHO.backupId}`, 2],
    ]);
  }));

Deno.test("confirmRestore: starts the chosen parts (rewind only with member roles), shows progress", () =>
  withGuild({ members: 8, roles: 3 }, async ({ deps }) => {
    await captureNow(deps);
    const mask = PART_BIT.settings | REWIND_BIT;
    const r = answered(await confirmRestore(handCtx(deps, { state: `${WHO.backupId}.${mask}` })));
    assert.equal(r.kind, "update");
    assert.equal(
      r.data.embeds![0].description,
      t("en", "backup.restore_started", { id: WHO.backupId, user: USER.id }),
    );
    while (deps.background.length) await deps.background.shift();
    const s = await jobStatus(deps, GUILD, "restore");
    assert.equal(s.progress.state, "completed");
    assert.deepStrictEqual([s.report?.parts, s.report?.rewind], [["settings"], false]);
  }));
