/**
 * What deletes backups on its own (lib/backup/retention.ts): age-based retention, which keeps
 * pinned backups, and the room a scheduled backup makes at the cap.
 */
import assert from "node:assert/strict";
import { type Limits, listBackups, saveBackup, setPinned } from "../../lib/backup/store.ts";
import { makeRoomForScheduled, pruneExpired } from "../../lib/backup/retention.ts";
import { withKv } from "../kv/_kv.ts";
import { G, newBackup } from "./_new_backup.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const limits: Limits = { maxPerGuild: 3, cooldownS: 300, retentionDays: 0 };
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("retention: prunes old unpinned backups; scheduled ones rotate at the cap", async () => {
  await withKv(async (kv) => {
    await saveBackup(kv, newBackup("aaaaaaaa", T0, "schedule"), bytes("{}"), limits, T0);
    await saveBackup(
      kv,
      newBackup("bbbbbbbb", T0 + DAY, "schedule"),
      bytes("{}"),
      limits,
      T0 + DAY,
    );
    await saveBackup(kv, newBackup("cccccccc", T0 + 20 * DAY), bytes("{}"), limits, T0 + 20 * DAY);
    await setPinned(kv, G, "aaaaaaaa", true);

    // At the cap: the oldest unpinned scheduled backup makes room (never a pinned one).
    assert.deepStrictEqual(await makeRoomForScheduled(kv, G, 3), "bbbbbbbb");
    assert.deepStrictEqual(await makeRoomForScheduled(kv, G, 3), null);
    await saveBackup(kv, newBackup("dddddddd", T0 + 21 * DAY, "schedule"), bytes("{}"), limits, T0);

    // 0 keeps forever.
    assert.deepStrictEqual(await pruneExpired(kv, G, 0, T0 + 365 * DAY), []);
    // 10 days at T0+31: "cccccccc" (11 days old) goes, pinned "aaaaaaaa" stays.
    assert.deepStrictEqual(await pruneExpired(kv, G, 10, T0 + 31 * DAY), ["cccccccc"]);
    assert.deepStrictEqual((await listBackups(kv, G)).map((m) => m.id), ["dddddddd", "aaaaaaaa"]);
  });
});
