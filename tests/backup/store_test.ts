import assert from "node:assert/strict";
import {
  BackupCorruptError,
  BackupLimitError,
  BackupNotFoundError,
  BackupPinnedError,
  checkCreateAllowed,
  deleteBackup,
  type Limits,
  listBackups,
  loadSnapshot,
  newBackupId,
  requireBackup,
  saveBackup,
  setNote,
  setPinned,
} from "../../lib/backup/store.ts";
import { keys } from "../../lib/kv/keys.ts";
import { G, newBackup } from "./_new_backup.ts";
import { sampleSnapshot } from "./_sample.ts";
import { assertSays, thrown } from "./_refusal.ts";
import { memoryDeps } from "../_deps.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { backupView } from "../../lib/backup/views.ts";
import { reasonOf } from "../../lib/i18n/reason.ts";
import { withKv } from "../kv/_kv.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const limits: Limits = { maxPerGuild: 3, cooldownS: 300, retentionDays: 0 };

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("store: ids are short and safe", () => {
  const id = newBackupId(T0);
  assert.deepStrictEqual(/^[a-z0-9]{12}$/.test(id), true);
});

Deno.test("store: save is idempotent by id; sizes and checksum recorded; large values split", async () => {
  await withKv(async (kv) => {
    const raw = new Uint8Array(200_000); // incompressible: 4 parts
    for (let i = 0; i < raw.length; i += 50_000) {
      crypto.getRandomValues(raw.subarray(i, i + 50_000));
    }
    const a = await saveBackup(kv, newBackup("aaaaaaaa", T0), raw, limits, T0 + 5);
    assert.deepStrictEqual(a.sizeRaw, 200_000);
    assert.deepStrictEqual(a.sizeCompressed > 150_000, true);
    assert.deepStrictEqual(a.pinned, false);
    const again = await saveBackup(kv, newBackup("aaaaaaaa", T0), bytes("other"), limits, T0 + 9);
    assert.deepStrictEqual(again, a);
    assert.deepStrictEqual((await listBackups(kv, G)).length, 1);
  });
});

Deno.test("store: cooldown and cap; pinned backups cannot be deleted", async () => {
  await withKv(async (kv) => {
    await saveBackup(kv, newBackup("aaaaaaaa", T0), bytes("{}"), limits, T0);
    await assert.rejects(
      () => checkCreateAllowed(kv, G, limits, T0 + 60_000, { cooldown: true }),
      (cooldown) => {
        assert.ok(cooldown instanceof BackupLimitError);
        assert.deepStrictEqual(cooldown.kind, "cooldown");
        assert.deepStrictEqual(cooldown.retryAfterMs, 240_000);
        return true;
      },
    );
    // Scheduled runs do not wait for the cooldown; after it, anyone may.
    await checkCreateAllowed(kv, G, limits, T0 + 60_000, { cooldown: false });
    await checkCreateAllowed(kv, G, limits, T0 + 300_000, { cooldown: true });

    await saveBackup(kv, newBackup("bbbbbbbb", T0 + DAY), bytes("{}"), limits, T0 + DAY);
    await saveBackup(kv, newBackup("cccccccc", T0 + 2 * DAY), bytes("{}"), limits, T0 + 2 * DAY);
    await assert.rejects(
      () => checkCreateAllowed(kv, G, limits, T0 + 9 * DAY, { cooldown: true }),
      (cap) => {
        assert.ok(cap instanceof BackupLimitError);
        assert.deepStrictEqual(cap.kind, "cap");
        return true;
      },
    );
    // The cap holds at commit too (a capture that started under it).
    await assert.rejects(
      () => saveBackup(kv, newBackup("dddddddd", T0 + 3 * DAY), bytes("{}"), limits, T0 + 3 * DAY),
      BackupLimitError,
    );
    assert.deepStrictEqual((await listBackups(kv, G)).map((m) => m.id), [
      "cccccccc",
      "bbbbbbbb",
      "aaaaaaaa",
    ]);
    // Nothing of the refused backup is left in KV.
    const left = [];
    for await (
      const e of kv.list({ prefix: keys.blob("head", ...keys.backupSnapshot(G, "dddddddd")) })
    ) {
      left.push(e);
    }
    assert.deepStrictEqual(left, []);

    await setPinned(kv, G, "aaaaaaaa", true);
    await assert.rejects(() => deleteBackup(kv, G, "aaaaaaaa"), BackupPinnedError);
    await setPinned(kv, G, "aaaaaaaa", false);
    await deleteBackup(kv, G, "aaaaaaaa");
    await assert.rejects(() => deleteBackup(kv, G, "aaaaaaaa"), BackupNotFoundError);
    assert.deepStrictEqual(
      (await kv.get(keys.blob("head", ...keys.backupSnapshot(G, "aaaaaaaa")))).value,
      null,
    );

    const noted = await setNote(kv, G, "bbbbbbbb", "  keep this  ");
    assert.deepStrictEqual(noted.note, "keep this");
    assert.deepStrictEqual((await setNote(kv, G, "bbbbbbbb", "")).note, null);
    await assert.rejects(() => setNote(kv, G, "bbbbbbbb", "x".repeat(501)), RangeError);
  });
});

const ID = "aaaaaaaa";

Deno.test("backup refusals: the store's errors carry their Reason", async () => {
  await withKv(async (kv) => {
    const now = Date.UTC(2026, 0, 1);
    const limits = { maxPerGuild: 2, cooldownS: 300, retentionDays: 0 };
    await saveBackup(
      kv,
      newBackup(ID, now - 100_000),
      canonicalBytes(sampleSnapshot()),
      limits,
      now,
    );

    assertSays(
      await thrown(requireBackup(kv, G, "zzzzzzzz")),
      BackupNotFoundError,
      "no backup with id zzzzzzzz in this server",
      "no hay ninguna copia con el id zzzzzzzz en este servidor",
    );
    await setPinned(kv, G, ID, true);
    assertSays(
      await thrown(deleteBackup(kv, G, ID)),
      BackupPinnedError,
      "backup aaaaaaaa is pinned: unpin it first",
      "la copia aaaaaaaa está fijada: desfíjala primero",
    );
    assertSays(
      await thrown(setNote(kv, G, ID, "x".repeat(501))),
      RangeError,
      "a note has at most 500 characters",
      "una nota tiene como máximo 500 caracteres",
    );

    const cooldown = await thrown(checkCreateAllowed(kv, G, limits, now, { cooldown: true }));
    assertSays(
      cooldown,
      BackupLimitError,
      "a backup was made less than 300 s ago; try again in 200 s",
      "se hizo una copia hace menos de 300 s; inténtalo de nuevo dentro de 200 s",
    );
    assert.ok(cooldown instanceof BackupLimitError);
    assert.equal(cooldown.kind, "cooldown");
    assert.equal(cooldown.retryAfterMs, 200_000);

    const later = now + DAY;
    await saveBackup(
      kv,
      newBackup("bbbbbbbb", later),
      canonicalBytes(sampleSnapshot()),
      limits,
      later,
    );
    const cap = await thrown(checkCreateAllowed(kv, G, limits, later + DAY, { cooldown: true }));
    assertSays(
      cap,
      BackupLimitError,
      "this server has 2 backups, the most allowed (2); delete or unpin old ones first",
      "este servidor tiene 2 copias, el máximo permitido (2); borra o desfija alguna antigua primero",
    );
    assert.ok(cap instanceof BackupLimitError && cap.kind === "cap");
    assertSays(
      await thrown(
        saveBackup(
          kv,
          newBackup("cccccccc", later),
          canonicalBytes(sampleSnapshot()),
          limits,
          later,
        ),
      ),
      BackupLimitError,
      "this server reached its cap of 2 backups while capturing",
      "este servidor alcanzó su límite de 2 copias durante la captura",
    );

    // A checksum that no longer matches: the load fails with its Reason, and the view keeps it
    // beside its English text.
    const meta = await requireBackup(kv, G, ID);
    await kv.set(keys.backupMeta(G, ID), { ...meta, checksum: "0".repeat(64) });
    const corrupt = await thrown(loadSnapshot(kv, G, ID));
    assertSays(
      corrupt,
      BackupCorruptError,
      "backup aaaaaaaa failed verification: checksum mismatch",
      "la copia aaaaaaaa no superó la verificación: checksum mismatch",
    );
    const view = await backupView(memoryDeps(kv), G, ID);
    assert.equal(view.problem, "backup aaaaaaaa failed verification: checksum mismatch");
    assert.deepStrictEqual(view.problemWhy, reasonOf(corrupt as Error));
  });
});
