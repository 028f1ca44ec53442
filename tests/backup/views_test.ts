/**
 * The read-only backup views (lib/backup/views.ts) over backups saved in an in-memory KV: details
 * (and a backup that fails verification), diffs of two backups, the export file, restore previews
 * against a fake live guild, and the signed, expiring download links.
 */
import assert from "node:assert/strict";
import { sampleSnapshot } from "./_sample.ts";
import { newBackup } from "./_new_backup.ts";
import { ManualClock } from "../_clock.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { testConfig } from "../_config.ts";
import { createHmac } from "../../lib/hmac.ts";
import { sha256Hex } from "../../lib/canonical.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  canonicalBytes,
  countsOf,
  normalizeSnapshot,
  type Snapshot,
} from "../../lib/backup/model.ts";
import { diffSnapshots, diffSummary } from "../../lib/backup/diff.ts";
import {
  type BackupMeta,
  BackupNotFoundError,
  type Limits,
  saveBackup,
} from "../../lib/backup/store.ts";
import {
  backupView,
  createExportLink,
  diffBackup,
  EXPORT_LINK_TTL_MS,
  exportBackup,
  restorePreview,
  verifyExportLink,
} from "../../lib/backup/views.ts";
import { createTestApp } from "../_harness.ts";
import { withKv } from "../kv/_kv.ts";

const G = "200000000000000001"; // the sample snapshot's guild
const T0 = Date.UTC(2026, 0, 1);
const limits: Limits = { maxPerGuild: 10, cooldownS: 0, retentionDays: 0 };

/** Just what the views read: KV, the clock and the config (no REST unless a test gives one). */
function depsOn(kv: Deno.Kv, clock = new ManualClock(T0), env: Record<string, string> = {}) {
  return { kv, clock, config: testConfig(env) } as unknown as AppDeps;
}

async function save(
  kv: Deno.Kv,
  id: string,
  snapshot: Snapshot,
  createdAt = T0,
  guildId = G,
): Promise<BackupMeta> {
  return await saveBackup(
    kv,
    {
      ...newBackup(id, createdAt),
      guildId,
      memberCount: snapshot.members.length,
      roleCount: snapshot.roles.length,
      channelCount: snapshot.channels.length,
    },
    canonicalBytes(snapshot),
    limits,
    createdAt,
  );
}

// ---------------------------------------------------------------------------------------------
// Details

Deno.test("views: a backup's details carry its index entry, counts and stored parts", async () => {
  await withKv(async (kv) => {
    const meta = await save(kv, "aaaaaaaa", sampleSnapshot());
    const v = await backupView(depsOn(kv), G, "aaaaaaaa");
    assert.deepStrictEqual(v.backup, meta);
    assert.deepStrictEqual(v.counts, countsOf(sampleSnapshot()));
    assert.deepStrictEqual(v.counts!.categories, 1);
    assert.deepStrictEqual(v.counts!.overwrites, 2);
    assert.deepStrictEqual(v.counts!.memberRoles, 2);
    assert.deepStrictEqual(v.problem, null);
    assert.deepStrictEqual(v.storedParts, 1);
  });
});

Deno.test("views: a backup that fails verification is shown with its problem, not thrown", async () => {
  await withKv(async (kv) => {
    const meta = await save(kv, "aaaaaaaa", sampleSnapshot());
    const tampered = { ...meta, checksum: "0".repeat(64) };
    await kv.set(keys.backupMeta(G, meta.id), tampered);
    const v = await backupView(depsOn(kv), G, meta.id);
    assert.deepStrictEqual(v.backup, tampered);
    assert.deepStrictEqual(v.counts, null);
    assert.deepStrictEqual(v.problem, "backup aaaaaaaa failed verification: checksum mismatch");
    assert.deepStrictEqual(v.storedParts, 1, "the stored data is still there");
  });
});

Deno.test("views: an unknown backup, or one of another guild, is not found", async () => {
  await withKv(async (kv) => {
    await save(kv, "aaaaaaaa", sampleSnapshot());
    const deps = depsOn(kv);
    await assert.rejects(() => backupView(deps, G, "bbbbbbbb"), BackupNotFoundError);
    await assert.rejects(
      () => backupView(deps, "200000000000000009", "aaaaaaaa"),
      BackupNotFoundError,
    );
    await assert.rejects(() => exportBackup(deps, G, "bbbbbbbb"), BackupNotFoundError);
    await assert.rejects(() => diffBackup(deps, G, "aaaaaaaa", "bbbbbbbb"), BackupNotFoundError);
  });
});

// ---------------------------------------------------------------------------------------------
// Diffs

Deno.test("views: a diff of two backups names both sides and summarises the changes", async () => {
  await withKv(async (kv) => {
    const before = sampleSnapshot();
    const after = sampleSnapshot();
    after.roles[1].name = "Moderators";
    after.channels.push({ ...after.channels[0], id: "400000000000000009", name: "new" });
    after.members[0].roles = ["300000000000000001"];
    const a = await save(kv, "aaaaaaaa", before, T0);
    const b = await save(kv, "bbbbbbbb", after, T0 + 60_000);
    const v = await diffBackup(depsOn(kv), G, a.id, b.id);
    assert.deepStrictEqual(v.from, {
      backupId: "aaaaaaaa",
      label: "label aaaaaaaa",
      createdAt: T0,
    });
    assert.deepStrictEqual(v.to, {
      backupId: "bbbbbbbb",
      label: "label bbbbbbbb",
      createdAt: T0 + 60_000,
    });
    // The snapshots as stored (normalised) give the same diff as the originals.
    assert.deepStrictEqual(v.diff, diffSnapshots(before, after));
    assert.deepStrictEqual(v.summary, diffSummary(v.diff));
    assert.deepStrictEqual(v.diff.identical, false);
    assert.deepStrictEqual(v.diff.roles.totals, { added: 0, removed: 0, changed: 1 });
    assert.deepStrictEqual(v.diff.channels.totals.added, 1);
    assert.deepStrictEqual(v.diff.members.totals.changed, 1);

    // The other way round: the same changes seen from the other side.
    const back = await diffBackup(depsOn(kv), G, b.id, a.id);
    assert.deepStrictEqual(back.diff.channels.totals.removed, 1);

    // A backup against itself.
    const same = await diffBackup(depsOn(kv), G, a.id, a.id);
    assert.deepStrictEqual(same.diff.identical, true);
    assert.deepStrictEqual(same.summary, ["No differences."]);
  });
});

Deno.test("views: the diff limit caps the changes listed, not the totals", async () => {
  await withKv(async (kv) => {
    const before = sampleSnapshot();
    const after = sampleSnapshot();
    for (const r of after.roles) r.color = 7;
    await save(kv, "aaaaaaaa", before);
    await save(kv, "bbbbbbbb", after);
    const v = await diffBackup(depsOn(kv), G, "aaaaaaaa", "bbbbbbbb", { limit: 1 });
    assert.deepStrictEqual(v.diff.roles.totals.changed, 3);
    assert.deepStrictEqual(v.diff.roles.changed.length, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Export

Deno.test("views: the export file wraps the verified canonical bytes, which re-hash to the checksum", async () => {
  await withKv(async (kv) => {
    const meta = await save(kv, "aaaaaaaa", sampleSnapshot());
    const { bytes, filename } = await exportBackup(depsOn(kv), G, meta.id);
    assert.deepStrictEqual(filename, `backup-${G}-aaaaaaaa.json`);
    const file = JSON.parse(new TextDecoder().decode(bytes));
    assert.deepStrictEqual(Object.keys(file), ["backup", "format", "snapshot"]);
    assert.deepStrictEqual(file.backup, meta);
    assert.deepStrictEqual(file.format, "discord-guild-backup");
    assert.deepStrictEqual(file.snapshot, normalizeSnapshot(sampleSnapshot()));
    // The snapshot is embedded byte for byte: everything between the head and the closing brace.
    const head = new TextEncoder().encode(
      `{"backup":${JSON.stringify(meta)},"format":"discord-guild-backup","snapshot":`,
    );
    const inner = bytes.subarray(head.length, bytes.length - 1);
    assert.deepStrictEqual(inner, canonicalBytes(sampleSnapshot()));
    assert.deepStrictEqual(await sha256Hex(inner), meta.checksum);
    assert.deepStrictEqual(bytes[bytes.length - 1], 0x7d);
  });
});

Deno.test("views: a backup whose data does not verify is not exported", async () => {
  await withKv(async (kv) => {
    const meta = await save(kv, "aaaaaaaa", sampleSnapshot());
    await kv.set(keys.backupMeta(G, meta.id), { ...meta, checksum: "f".repeat(64) });
    await assert.rejects(
      () => exportBackup(depsOn(kv), G, meta.id),
      (e) => e instanceof Error && e.message.includes("checksum mismatch"),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Restore preview

Deno.test("views: a restore preview counts what would be created against the live guild", async () => {
  const BOT = "500000000000000001";
  const snap = sampleSnapshot();
  const live = {
    ...snap.guild,
    name: "Renamed", // the name is not a setting a restore puts back
    verification_level: 3,
    afk_timeout: 60,
    owner_id: "600000000000000001",
    roles: [
      // @everyone and Members exist live; Mods does not.
      { ...snap.roles[0] },
      { ...snap.roles[2] },
    ],
  };
  const t = await createTestApp({
    routes: {
      "GET /users/@me": { id: BOT, username: "bot" },
      [`GET /guilds/${G}`]: live,
      // The category exists; #general does not.
      [`GET /guilds/${G}/channels`]: [snap.channels[1]],
      [`GET /guilds/${G}/members/${BOT}`]: { roles: [], user: { id: BOT } },
    },
  });
  try {
    await save(t.deps.kv, "aaaaaaaa", snap);
    const all = await restorePreview(t.deps, G, "aaaaaaaa", {
      parts: ["roles", "categories", "channels", "members", "settings"],
      rewind: false,
    });
    assert.deepStrictEqual(all, {
      roles: 1,
      managedRolesSkipped: 0,
      categories: 0,
      channels: 1,
      reparent: 0,
      overwrites: 0,
      // #general (the system channel) is yet to be created: not in the settings patch.
      settings: ["verification_level", "afk_timeout"],
      members: 2,
    });
    // Only roles: nothing else is counted (members: 0).
    const rolesOnly = await restorePreview(t.deps, G, "aaaaaaaa", {
      parts: ["roles"],
      rewind: false,
    });
    assert.deepStrictEqual(rolesOnly, {
      roles: 1,
      managedRolesSkipped: 0,
      categories: 0,
      channels: 0,
      reparent: 0,
      overwrites: 0,
      settings: [],
      members: 0,
    });
  } finally {
    await t.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Export links

const key = (n: number) => new Uint8Array(32).fill(n);

Deno.test("views: an export link expires on a whole second, at SELF_URL or localhost:PORT", async () => {
  await withKv(async (kv) => {
    const clock = new ManualClock(T0 + 1_234);
    const signer = createHmac(key(1));
    const local = await createExportLink(
      depsOn(kv, clock, { PORT: "9123" }),
      signer,
      G,
      "abcdefgh",
    );
    const exp = Math.ceil((T0 + 1_234 + EXPORT_LINK_TTL_MS) / 1000);
    assert.deepStrictEqual(local.expiresAt, exp * 1000, "rounded up to the second");
    const url = new URL(local.url);
    assert.deepStrictEqual(url.origin, "http://localhost:9123");
    assert.deepStrictEqual(url.pathname, `/backups/download/${G}/abcdefgh`);
    assert.deepStrictEqual(url.searchParams.get("exp"), String(exp));

    const deps = depsOn(kv, clock, { SELF_URL: "https://bot.example/" });
    const served = await createExportLink(deps, signer, G, "abcdefgh", 60_000);
    assert.deepStrictEqual(new URL(served.url).origin, "https://bot.example");
    assert.deepStrictEqual(served.url.startsWith("https://bot.example/backups/download/"), true);
    assert.deepStrictEqual(served.expiresAt, T0 + 1_234 + 60_000 + 766);
  });
});

Deno.test("views: an export link verifies until it expires, and only for its guild and backup", async () => {
  await withKv(async (kv) => {
    const clock = new ManualClock(T0);
    const signer = createHmac(key(1));
    const link = await createExportLink(depsOn(kv, clock), signer, G, "abcdefgh", 60_000);
    const url = new URL(link.url);
    const exp = Number(url.searchParams.get("exp"));
    const sig = url.searchParams.get("sig")!;
    const ok = { ok: true };
    const invalid = { ok: false, status: 401, error: "invalid link" };
    const expired = { ok: false, status: 410, error: "this link has expired" };

    assert.deepStrictEqual(await verifyExportLink(signer, clock, G, "abcdefgh", exp, sig), ok);
    // Another backup, another guild, a moved expiry, a changed signature: invalid.
    assert.deepStrictEqual(await verifyExportLink(signer, clock, G, "abcdefgi", exp, sig), invalid);
    assert.deepStrictEqual(
      await verifyExportLink(signer, clock, "200000000000000002", "abcdefgh", exp, sig),
      invalid,
    );
    assert.deepStrictEqual(
      await verifyExportLink(signer, clock, G, "abcdefgh", exp + 3600, sig),
      invalid,
    );
    assert.deepStrictEqual(
      await verifyExportLink(signer, clock, G, "abcdefgh", exp, sig.slice(1) + "A"),
      invalid,
    );
    assert.deepStrictEqual(await verifyExportLink(signer, clock, G, "abcdefgh", exp, ""), invalid);
    assert.deepStrictEqual(
      await verifyExportLink(signer, clock, G, "abcdefgh", exp + 0.5, sig),
      invalid,
    );
    assert.deepStrictEqual(await verifyExportLink(signer, clock, G, "abcdefgh", NaN, sig), invalid);
    // Another key: invalid.
    assert.deepStrictEqual(
      await verifyExportLink(createHmac(key(2)), clock, G, "abcdefgh", exp, sig),
      invalid,
    );

    // Valid up to the last millisecond before the expiry; expired from it on.
    clock.set(exp * 1000 - 1);
    assert.deepStrictEqual(await verifyExportLink(signer, clock, G, "abcdefgh", exp, sig), ok);
    clock.set(exp * 1000);
    assert.deepStrictEqual(await verifyExportLink(signer, clock, G, "abcdefgh", exp, sig), expired);
    // A forged link to an expired time is invalid before it is expired.
    assert.deepStrictEqual(
      await verifyExportLink(signer, clock, G, "abcdefgh", exp - 1, sig),
      invalid,
    );
  });
});

Deno.test("views: during a key rotation, links signed with the previous key still verify", async () => {
  await withKv(async (kv) => {
    const clock = new ManualClock(T0);
    const old = createHmac(key(1));
    const link = await createExportLink(depsOn(kv, clock), old, G, "abcdefgh");
    const url = new URL(link.url);
    const exp = Number(url.searchParams.get("exp"));
    const sig = url.searchParams.get("sig")!;
    const rotated = createHmac(key(2), key(1));
    assert.deepStrictEqual(await verifyExportLink(rotated, clock, G, "abcdefgh", exp, sig), {
      ok: true,
    });
    // New links are signed with the new key only.
    const fresh = await createExportLink(depsOn(kv, clock), rotated, G, "abcdefgh");
    const freshUrl = new URL(fresh.url);
    const freshExp = Number(freshUrl.searchParams.get("exp"));
    const freshSig = freshUrl.searchParams.get("sig")!;
    assert.deepStrictEqual(
      (await verifyExportLink(old, clock, G, "abcdefgh", freshExp, freshSig)).ok,
      false,
    );
    assert.deepStrictEqual(
      await verifyExportLink(createHmac(key(2)), clock, G, "abcdefgh", freshExp, freshSig),
      { ok: true },
    );
  });
});
