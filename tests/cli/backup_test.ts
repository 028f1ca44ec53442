/**
 * The backup CLI against the real bot, served over HTTP, backed by the emulator: the CLI only
 * speaks HTTP, so this is the whole path an operator uses.
 */
import assert from "node:assert/strict";
import { type Fixture, GUILD, startFixture, TOKEN } from "../backup/_fixture.ts";
import { type BackupCliIO, runBackupCli } from "../../lib/cli/backup.ts";
import { keys } from "../../lib/kv/keys.ts";
import { sha256Hex } from "../../lib/canonical.ts";

interface Run {
  code: number;
  out: string[];
  err: string[];
  raw: Uint8Array[];
  written: string[];
}

async function cli(
  fx: Fixture,
  args: string[],
  o: { env?: Record<string, string>; tty?: boolean } = {},
): Promise<Run> {
  const run: Run = { code: -1, out: [], err: [], raw: [], written: [] };
  const env: Record<string, string> = o.env ??
    { SYNC_URL: fx.bot.url, SYNC_AUTH_TOKEN: TOKEN, DISCORD_GUILD_ID: GUILD };
  const io: Partial<BackupCliIO> = {
    stdout: (s) => run.out.push(s),
    stderr: (s) => run.err.push(s),
    write: (s) => run.written.push(s),
    writeBytes: (b) => {
      run.raw.push(b);
      return Promise.resolve();
    },
    env: (name) => env[name],
    isTTY: o.tty ?? false,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
    pollMs: 20,
  };
  run.code = await runBackupCli(args, io);
  return run;
}

Deno.test("cli: create, list, view, verify, diff, export, restore; exit codes", async () => {
  const fx = await startFixture({ guilds: [{ members: 90, roles: 3 }] }, {
    serve: true,
    env: { BACKUP_COOLDOWN: "300" },
  });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);

    const created = await cli(fx, ["create", "--label", "before cleanup"]);
    assert.deepStrictEqual(created.code, 0, created.err.join("\n"));
    const id = created.out.at(-1)!;
    assert.match(id, /^[a-z0-9]{6,24}$/);
    assert.ok(created.err.some((l) => l.startsWith("capture: completed")), created.err.join("\n"));
    assert.ok(!created.err.join("").includes("\x1b["), "plain output when not a terminal");

    // Cooldown: a second create right away is refused (exit 2).
    const refused = await cli(fx, ["create"]);
    assert.deepStrictEqual(refused.code, 2);
    assert.match(refused.err.join("\n"), /try again in/);

    const list = await cli(fx, ["list"]);
    assert.deepStrictEqual(list.code, 0);
    const listed = list.out.join("\n");
    assert.ok(listed.includes(id), listed);
    assert.match(listed, /before cleanup/);

    const view = await cli(fx, ["view", id, "--json"]);
    assert.deepStrictEqual(view.code, 0);
    const parsed = JSON.parse(view.out.join("\n"));
    assert.deepStrictEqual(parsed.backup.id, id);
    assert.deepStrictEqual(parsed.counts.roles, g.roles.size);

    const verify = await cli(fx, ["verify", id]);
    assert.deepStrictEqual(verify.code, 0);
    assert.match(verify.out.join("\n"), /checksum matches/);

    // The rogue moderator, then a diff against live and a restore.
    const role = g.extraRoles[0];
    const holders = [...g.members.values()].filter((m) => m.roles.includes(role)).map((m) => m.id);
    assert.ok(holders.length > 0);
    emu.state.deleteRole(GUILD, role);
    const general = [...g.channels.values()].find((c) => c.name === "general")!;
    emu.state.deleteChannel(general.id);
    const diff = await cli(fx, ["diff", id]);
    assert.deepStrictEqual(diff.code, 0);
    const text = diff.out.join("\n");
    assert.match(text, /- role Role 1/);
    assert.match(text, /- channel general/);
    assert.ok(text.includes(`Member roles: ${holders.length} members changed`), text);

    const restore = await cli(fx, ["restore", id]);
    assert.deepStrictEqual(restore.code, 0, restore.out.join("\n") + restore.err.join("\n"));
    assert.match(restore.out.join("\n"), /✔ restore completed/);
    assert.match(restore.out.join("\n"), /roles 1/);
    const newRole = [...g.roles.values()].find((r) => r.name === "Role 1")!;
    for (const h of holders) assert.ok(emu.state.memberRoles(GUILD, h)!.includes(newRole.id));
    assert.ok([...g.channels.values()].some((c) => c.name === "general"));

    // Restore with --only and --rewind, JSON output: a role gained since the backup goes.
    const r2 = g.extraRoles[1];
    const gainer = [...g.members.values()].find((m) =>
      !m.bot && m.id !== g.ownerId && !m.roles.includes(r2)
    )!;
    emu.state.setMemberRoles(GUILD, gainer.id, [...gainer.roles, r2]);
    const plain = await cli(fx, ["restore", id, "--only", "members"]);
    assert.deepStrictEqual(plain.code, 0);
    assert.ok(emu.state.memberRoles(GUILD, gainer.id)!.includes(r2), "kept without --rewind");
    const only = await cli(fx, ["restore", id, "--only", "members", "--rewind", "--json"]);
    assert.deepStrictEqual(only.code, 0);
    const status = JSON.parse(only.out.join("\n"));
    assert.deepStrictEqual(status.report.parts, ["members"]);
    assert.deepStrictEqual(status.report.rewind, true);
    assert.deepStrictEqual(status.report.members.roles_removed, 1);
    assert.ok(!emu.state.memberRoles(GUILD, gainer.id)!.includes(r2), "removed with --rewind");

    // Export: the snapshot's canonical bytes re-hash to the checksum.
    const exported = await cli(fx, ["export", id]);
    assert.deepStrictEqual(exported.code, 0);
    const file = JSON.parse(new TextDecoder().decode(exported.raw[0]));
    assert.deepStrictEqual(file.backup.id, id);
    const text2 = new TextDecoder().decode(exported.raw[0]);
    const snap = text2.slice(text2.indexOf(`"snapshot":`) + 11, -1);
    assert.deepStrictEqual(await sha256Hex(new TextEncoder().encode(snap)), file.backup.checksum);

    // Two backups diff (the second after the restore).
    emu.resetRateLimits();
    await bot.kv.set(keys.backupGuild(GUILD), { seq: 99, lastCreatedAt: 0 });
    const second = await cli(fx, ["create", "--json"]);
    assert.deepStrictEqual(second.code, 0, second.err.join("\n"));
    const id2 = second.out.at(-1)!;
    assert.deepStrictEqual(JSON.parse(second.out[0]).progress.state, "completed");
    const two = await cli(fx, ["diff", id, id2]);
    assert.deepStrictEqual(two.code, 0);
    const diffed = two.out.join("\n");
    assert.ok(diffed.includes(`Diff ${id}`), diffed);

    // A flipped byte: verify exits 1.
    for await (
      const e of bot.kv.list<Uint8Array>({
        prefix: keys.blob("part", ...keys.backupSnapshot(GUILD, id)),
      })
    ) {
      const b = new Uint8Array(e.value);
      b[10] ^= 0xff;
      await bot.kv.set(e.key, b);
      break;
    }
    const bad = await cli(fx, ["verify", id]);
    assert.deepStrictEqual(bad.code, 1);
    assert.match(bad.out.join("\n"), /✖/);

    // Refusals and usage: exit 2.
    const noToken = await cli(fx, ["list"], { env: { SYNC_URL: bot.url } });
    assert.deepStrictEqual(noToken.code, 2);
    const wrong = await cli(fx, ["list", "--token", "wrong-token-0123456789"], {
      env: { SYNC_URL: bot.url },
    });
    assert.deepStrictEqual(wrong.code, 2);
    assert.match(wrong.err.join("\n"), /401/);
    assert.deepStrictEqual((await cli(fx, ["restore"])).code, 2);
    assert.deepStrictEqual((await cli(fx, ["restore", id, "--only", "bogus"])).code, 2);
    assert.deepStrictEqual((await cli(fx, ["view", "zzzzzzzz"])).code, 2);
    assert.deepStrictEqual((await cli(fx, ["frobnicate"])).code, 2);
  } finally {
    await fx.close();
  }
});

Deno.test("cli: a terminal gets a redrawn progress bar", async () => {
  const fx = await startFixture({ guilds: [{ members: 20 }] }, { serve: true });
  try {
    const run = await cli(fx, ["create", "--no-color"], { tty: true });
    assert.deepStrictEqual(run.code, 0, run.err.join("\n"));
    assert.ok(run.written.some((w) => w.startsWith("\r") && w.includes("capture: completed")));
    // A finished run's bar is full, 30 wide.
    assert.ok(run.written.some((w) => w.startsWith(`\r${"█".repeat(30)} capture: completed`)));
    assert.deepStrictEqual(run.err.filter((l) => l.startsWith("capture:")), []);
  } finally {
    await fx.close();
  }
});
