/**
 * The backup layer's errors and refusals carry their Reason (lib/i18n/reason.ts): each keeps the
 * English message the logs and the HTTP API show, and a member reads the Spanish sentence written
 * here (what the /backup command showed before they carried it), as the command words a refusal.
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { memoryDeps } from "../_deps.ts";
import { G, newBackup } from "./_new_backup.ts";
import { sampleSnapshot } from "./_sample.ts";
import { keys } from "../../lib/kv/keys.ts";
import { explain, reasonOf } from "../../lib/i18n/reason.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { idleProgress } from "../../lib/jobs/progress.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import {
  BackupCorruptError,
  BackupLimitError,
  BackupNotFoundError,
  BackupPinnedError,
  checkCreateAllowed,
  deleteBackup,
  loadSnapshot,
  requireBackup,
  saveBackup,
  setNote,
  setPinned,
} from "../../lib/backup/store.ts";
import { setSchedule } from "../../lib/backup/schedule.ts";
import { BackupBusyError, BackupDisabledError, startCapture } from "../../lib/backup/service.ts";
import { backupView } from "../../lib/backup/views.ts";
import { refusalText } from "../../lib/commands/backup/common.ts";

const ID = "aaaaaaaa";
const DAY = 86_400_000;

/** What the error must hold: its class, its English message, a Reason, its Spanish sentence. */
function assertSays(
  error: unknown,
  type: abstract new (...a: never[]) => Error,
  english: string,
  spanish: string,
) {
  assert.ok(error instanceof type, `${error}`);
  assert.equal(error.message, english);
  assert.ok(reasonOf(error), `${error.name} carries its Reason`);
  assert.equal(explain("en", error), english);
  assert.equal(explain("es", error), spanish);
  // The command's refusal is the sentence, capitalised, with its full stop.
  const sentence = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
  assert.equal(refusalText(error, "es"), sentence(spanish));
  assert.equal(refusalText(error, "en"), sentence(english));
}

async function thrown(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (error) {
    return error;
  }
  return assert.fail("nothing was thrown");
}

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

Deno.test("backup refusals: schedule hours out of range carry their Reason", async () => {
  await withKv(async (kv) => {
    assertSays(
      await thrown(setSchedule(kv, G, { enabled: true, hours: 0 }, "1", 0)),
      RangeError,
      "hours must be a whole number from 1 to 168",
      "las horas deben ser un número entero entre 1 y 168",
    );
  });
});

Deno.test("backup refusals: the service's errors and refusals carry their Reason", async () => {
  await withKv(async (kv) => {
    const progress = idleProgress("backup_capture", G);
    assertSays(
      new BackupBusyError("capture", progress),
      BackupBusyError,
      "a backup of this server is already being captured",
      "ya se está capturando una copia de este servidor",
    );
    assertSays(
      new BackupBusyError("restore", progress),
      BackupBusyError,
      "a restore is already running in this server (one at a time)",
      "ya hay una restauración en curso en este servidor (solo una a la vez)",
    );

    const who = { authorId: "1", authorName: "t", source: "command" };
    // Shutting down: the start is refused, and the refusal passes its Reason on.
    const deps = { ...memoryDeps(kv), shutdown: AbortSignal.abort() };
    const refused = await startCapture(deps, G, who);
    assert.ok(refused.status === "conflict");
    assert.equal(refused.reason, "this instance is shutting down; try again");
    assert.equal(explain("es", refused), "esta instancia se está apagando; inténtalo de nuevo");

    await setFlag(kv, G, "backups", false);
    assertSays(
      await thrown(startCapture(memoryDeps(kv), G, who)),
      BackupDisabledError,
      `backups are turned off for server ${G} (feature flag backups)`,
      `las copias de seguridad están desactivadas en el servidor ${G} (función backups)`,
    );
  });
});

Deno.test("backup refusals: the command rethrows an error without a Reason", () => {
  const boom = new Error("boom");
  assert.throws(() => refusalText(boom, "es"), (e) => e === boom);
});
