import assert from "node:assert/strict";
import { GUILD, startFixture } from "./_fixture.ts";
import { startCapture } from "../../lib/backup/service.ts";
import {
  BackupCorruptError,
  getBackup,
  listBackups,
  loadSnapshot,
  verifyBackup,
} from "../../lib/backup/store.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { sha256Hex } from "../../lib/canonical.ts";
import { keys } from "../../lib/kv/keys.ts";
import { readAudit, verifyAudit } from "../../lib/audit/mod.ts";

const who = { authorId: "300000000000000001", authorName: "tester", source: "test" };

Deno.test("capture: a backup holds settings, roles, channels, overwrites, emojis, stickers, members", async () => {
  const fx = await startFixture({ guilds: [{ members: 120 }] });
  try {
    const { emu, bot } = fx;
    const r = await startCapture(bot.deps, GUILD, { ...who, label: "first" });
    assert.deepStrictEqual(r.status, "started");
    const done = await bot.waitJob("capture");
    assert.deepStrictEqual(done.progress.state, "completed", JSON.stringify(done.progress));
    const id = done.backupId!;
    const meta = (await getBackup(bot.kv, GUILD, id))!;
    assert.deepStrictEqual(meta.label, "first");
    const g = emu.state.guild(GUILD);
    const humans = [...g.members.values()].filter((m) => !m.bot);
    assert.deepStrictEqual(meta.memberCount, humans.length);
    assert.deepStrictEqual(meta.roleCount, g.roles.size);
    assert.deepStrictEqual(meta.channelCount, g.channels.size);
    assert.ok(meta.sizeCompressed < meta.sizeRaw, "compressed");

    const { snapshot } = await loadSnapshot(bot.kv, GUILD, id);
    // The recorded checksum is the SHA-256 of the snapshot's canonical bytes.
    assert.deepStrictEqual(await sha256Hex(canonicalBytes(snapshot)), meta.checksum);
    assert.deepStrictEqual(snapshot.guild.verification_level, g.settings.verification_level);
    assert.deepStrictEqual(snapshot.guild.system_channel_id, g.systemChannelId);
    assert.deepStrictEqual(snapshot.emojis.length, g.emojis.length);
    assert.deepStrictEqual(snapshot.stickers.length, g.stickers.length);
    const lounge = snapshot.channels.find((c) => c.name === "verified-lounge")!;
    assert.deepStrictEqual(lounge.permission_overwrites.length, 3);
    // Members: non-bot only, without managed roles or @everyone, in id order.
    const managed = new Set([...g.roles.values()].filter((x) => x.managed).map((x) => x.id));
    for (const m of snapshot.members) {
      const live = g.members.get(m.id)!;
      assert.ok(!live.bot);
      assert.deepStrictEqual(m.roles, live.roles.filter((x) => !managed.has(x)).sort());
    }
    // The bot's own settings are in it.
    assert.deepStrictEqual(snapshot.bot.flags.backups, true);

    const ok = await verifyBackup(bot.kv, GUILD, id);
    assert.deepStrictEqual(ok.ok, true);
    assert.deepStrictEqual(ok.actual, meta.checksum);

    // Capturing the unchanged guild again gives the same checksum (no time or id inside).
    emu.resetRateLimits();
    const again = await startCapture(bot.deps, GUILD, { ...who, source: "schedule" });
    assert.deepStrictEqual(again.status, "started");
    const second = await bot.waitJob("capture");
    const meta2 = (await getBackup(bot.kv, GUILD, second.backupId!))!;
    assert.notDeepStrictEqual(meta2.id, meta.id);
    assert.deepStrictEqual(meta2.checksum, meta.checksum);
    assert.deepStrictEqual((await listBackups(bot.kv, GUILD)).length, 2);

    const audit = await readAudit(bot.kv, GUILD, { limit: 10 });
    assert.deepStrictEqual(audit.entries.map((e) => e.action), ["backup.create", "backup.create"]);
    assert.deepStrictEqual((await verifyAudit(bot.kv, GUILD)).ok, true);
  } finally {
    await fx.close();
  }
});

Deno.test("verify: one flipped byte in the stored data fails verification", async () => {
  const fx = await startFixture({ guilds: [{ members: 30 }] });
  try {
    const { bot } = fx;
    await startCapture(bot.deps, GUILD, who);
    const id = (await bot.waitJob("capture")).backupId!;
    assert.deepStrictEqual((await verifyBackup(bot.kv, GUILD, id)).ok, true);
    // Flip one byte of the first stored part.
    const prefix = keys.blob("part", ...keys.backupSnapshot(GUILD, id));
    let flipped = false;
    for await (const e of bot.kv.list<Uint8Array>({ prefix })) {
      const bytes = new Uint8Array(e.value);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      await bot.kv.set(e.key, bytes);
      flipped = true;
      break;
    }
    assert.ok(flipped);
    const bad = await verifyBackup(bot.kv, GUILD, id);
    assert.deepStrictEqual(bad.ok, false);
    assert.ok(/checksum|corrupt/.test(bad.detail), bad.detail);
    await assert.rejects(() => loadSnapshot(bot.kv, GUILD, id), BackupCorruptError);
  } finally {
    await fx.close();
  }
});
