import { assertEquals, assertRejects } from "../_assert.ts";
import {
  BackupLimitError,
  BackupNotFoundError,
  BackupPinnedError,
  checkCreateAllowed,
  deleteBackup,
  gunzip,
  gzip,
  type Limits,
  listBackups,
  makeRoomForScheduled,
  type NewBackup,
  newBackupId,
  pruneExpired,
  saveBackup,
  setNote,
  setPinned,
} from "../../lib/backup/store.ts";
import { keys } from "../../lib/kv/keys.ts";

const G = "200000000000000001";
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const limits: Limits = { maxPerGuild: 3, cooldownS: 300, retentionDays: 0 };

function meta(id: string, createdAt: number, source = "command"): NewBackup {
  return {
    id,
    guildId: G,
    label: `label ${id}`,
    authorId: "1",
    authorName: "a",
    source,
    createdAt,
    memberCount: 1,
    roleCount: 1,
    channelCount: 1,
    runId: null,
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

async function withKv(fn: (kv: Deno.Kv) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("store: gzip round trip; ids are short and safe", async () => {
  const raw = bytes("x".repeat(100_000));
  const z = await gzip(raw);
  assertEquals(z.length < 1000, true);
  assertEquals(await gunzip(z), raw);
  const id = newBackupId(T0);
  assertEquals(/^[a-z0-9]{12}$/.test(id), true);
});

Deno.test("store: save is idempotent by id; sizes and checksum recorded; large values split", async () => {
  await withKv(async (kv) => {
    const raw = new Uint8Array(200_000); // incompressible: 4 parts
    for (let i = 0; i < raw.length; i += 50_000) {
      crypto.getRandomValues(raw.subarray(i, i + 50_000));
    }
    const a = await saveBackup(kv, meta("aaaaaaaa", T0), raw, limits, T0 + 5);
    assertEquals(a.sizeRaw, 200_000);
    assertEquals(a.sizeCompressed > 150_000, true);
    assertEquals(a.pinned, false);
    const again = await saveBackup(kv, meta("aaaaaaaa", T0), bytes("other"), limits, T0 + 9);
    assertEquals(again, a);
    assertEquals((await listBackups(kv, G)).length, 1);
  });
});

Deno.test("store: cooldown and cap; pinned backups cannot be deleted", async () => {
  await withKv(async (kv) => {
    await saveBackup(kv, meta("aaaaaaaa", T0), bytes("{}"), limits, T0);
    const cooldown = await assertRejects(
      () => checkCreateAllowed(kv, G, limits, T0 + 60_000, { cooldown: true }),
      BackupLimitError,
    ) as BackupLimitError;
    assertEquals(cooldown.kind, "cooldown");
    assertEquals(cooldown.retryAfterMs, 240_000);
    // Scheduled runs do not wait for the cooldown; after it, anyone may.
    await checkCreateAllowed(kv, G, limits, T0 + 60_000, { cooldown: false });
    await checkCreateAllowed(kv, G, limits, T0 + 300_000, { cooldown: true });

    await saveBackup(kv, meta("bbbbbbbb", T0 + DAY), bytes("{}"), limits, T0 + DAY);
    await saveBackup(kv, meta("cccccccc", T0 + 2 * DAY), bytes("{}"), limits, T0 + 2 * DAY);
    const cap = await assertRejects(
      () => checkCreateAllowed(kv, G, limits, T0 + 9 * DAY, { cooldown: true }),
      BackupLimitError,
    ) as BackupLimitError;
    assertEquals(cap.kind, "cap");
    // The cap holds at commit too (a capture that started under it).
    await assertRejects(
      () => saveBackup(kv, meta("dddddddd", T0 + 3 * DAY), bytes("{}"), limits, T0 + 3 * DAY),
      BackupLimitError,
    );
    assertEquals((await listBackups(kv, G)).map((m) => m.id), ["cccccccc", "bbbbbbbb", "aaaaaaaa"]);
    // Nothing of the refused backup is left in KV.
    const left = [];
    for await (
      const e of kv.list({ prefix: keys.blob("head", ...keys.backupSnapshot(G, "dddddddd")) })
    ) {
      left.push(e);
    }
    assertEquals(left, []);

    await setPinned(kv, G, "aaaaaaaa", true);
    await assertRejects(() => deleteBackup(kv, G, "aaaaaaaa"), BackupPinnedError);
    await setPinned(kv, G, "aaaaaaaa", false);
    await deleteBackup(kv, G, "aaaaaaaa");
    await assertRejects(() => deleteBackup(kv, G, "aaaaaaaa"), BackupNotFoundError);
    assertEquals(
      (await kv.get(keys.blob("head", ...keys.backupSnapshot(G, "aaaaaaaa")))).value,
      null,
    );

    const noted = await setNote(kv, G, "bbbbbbbb", "  keep this  ");
    assertEquals(noted.note, "keep this");
    assertEquals((await setNote(kv, G, "bbbbbbbb", "")).note, null);
    await assertRejects(() => setNote(kv, G, "bbbbbbbb", "x".repeat(501)), RangeError);
  });
});

Deno.test("store: retention prunes old unpinned backups; scheduled ones rotate at the cap", async () => {
  await withKv(async (kv) => {
    await saveBackup(kv, meta("aaaaaaaa", T0, "schedule"), bytes("{}"), limits, T0);
    await saveBackup(kv, meta("bbbbbbbb", T0 + DAY, "schedule"), bytes("{}"), limits, T0 + DAY);
    await saveBackup(kv, meta("cccccccc", T0 + 20 * DAY), bytes("{}"), limits, T0 + 20 * DAY);
    await setPinned(kv, G, "aaaaaaaa", true);

    // At the cap: the oldest unpinned scheduled backup makes room (never a pinned one).
    assertEquals(await makeRoomForScheduled(kv, G, 3), "bbbbbbbb");
    assertEquals(await makeRoomForScheduled(kv, G, 3), null);
    await saveBackup(kv, meta("dddddddd", T0 + 21 * DAY, "schedule"), bytes("{}"), limits, T0);

    // 0 keeps forever.
    assertEquals(await pruneExpired(kv, G, 0, T0 + 365 * DAY), []);
    // 10 days at T0+31: "cccccccc" (11 days old) goes, pinned "aaaaaaaa" stays.
    assertEquals(await pruneExpired(kv, G, 10, T0 + 31 * DAY), ["cccccccc"]);
    assertEquals((await listBackups(kv, G)).map((m) => m.id), ["dddddddd", "aaaaaaaa"]);
  });
});
