/**
 * /backup and /audit through signed interactions against the emulator: create, list, view,
 * verify, pin protection, delete with confirmation, cap and cooldown, diff against live, the
 * restore menu's toggles and two-step confirmation, schedule, owner-only export links, status,
 * and an audit log that shows it was tampered with.
 */
import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import assert from "node:assert/strict";
import { commandInteraction, componentInteraction, rawOptions, subcommand } from "../_harness.ts";
import { type Fixture, GUILD, OWNER, startFixture } from "../backup/_fixture.ts";
import { keys } from "../../lib/kv/keys.ts";
import { listBackups } from "../../lib/backup/store.ts";
import { createExportLink } from "../../lib/backup/views.ts";

const ADMIN = PermissionFlagsBits.Administrator;
let userSeq = 0;
/** A fresh administrator each call keeps the per-user cooldown out of the way. */
const admin = () => ({
  permissions: ADMIN,
  userId: String(320000000000000000n + BigInt(++userSeq)),
});

function text(r: Awaited<ReturnType<Fixture["bot"]["interact"]>>): string {
  const d = r.response.data;
  const own = [
    d?.content ?? "",
    ...(d?.embeds ?? []).map((e) =>
      [
        e.title,
        e.description,
        ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`),
        e.footer?.text,
      ]
        .join("\n")
    ),
  ].join("\n");
  const edited = r.messages.map((m) =>
    [
      m.content,
      ...((m.embeds ?? []) as { title?: string; description?: string }[]).map((e) =>
        `${e.title}\n${e.description}`
      ),
    ].join("\n")
  );
  return [own, ...edited].join("\n");
}

function buttons(r: Awaited<ReturnType<Fixture["bot"]["interact"]>>) {
  return (r.response.data?.components ?? []).flatMap((row) => row.components);
}

const backupCmd = (name: string, values: Record<string, unknown> = {}, who = admin()) =>
  commandInteraction("backup", subcommand(name, values), who);

Deno.test("/backup: create, list, view, verify, pin, delete, cap and cooldown", async () => {
  const fx = await startFixture({ guilds: [{ members: 40 }] }, {
    env: { BACKUP_MAX_PER_GUILD: "2", BACKUP_COOLDOWN: "300" },
  });
  try {
    const { bot } = fx;
    // Without Administrator: refused.
    const denied = await bot.interact(
      commandInteraction("backup", subcommand("list"), {
        permissions: PermissionFlagsBits.ManageGuild,
      }),
    );
    assert.match(text(denied), /Administrator/);

    const created = await bot.interact(backupCmd("create", { label: "first" }));
    assert.deepStrictEqual(
      created.response.type,
      InteractionResponseType.DeferredChannelMessageWithSource,
    );
    const done = text(created);
    assert.match(done, /✅ Backup `/);
    const id = /Backup `([a-z0-9]+)`/.exec(done)![1];

    // Cooldown: refused right away.
    const cool = await bot.interact(backupCmd("create"));
    assert.match(text(cool), /try again in/);

    const list = await bot.interact(backupCmd("list"));
    const listed = text(list);
    assert.ok(listed.includes(id), listed);
    assert.match(listed, /1 of at most 2 backups/);
    assert.deepStrictEqual(buttons(list).map((b) => b.disabled), [true, true]);

    const view = await bot.interact(backupCmd("view", { id }));
    assert.match(text(view), /Checksum \(SHA-256\)/);
    assert.match(text(view), /roles/);

    const verify = await bot.interact(backupCmd("verify", { id }));
    assert.match(text(verify), /is intact/);

    // Pinned: deletion refused.
    assert.match(text(await bot.interact(backupCmd("pin", { id }))), /Pinned/);
    assert.match(text(await bot.interact(backupCmd("delete", { id }))), /pinned/);
    assert.match(
      text(await bot.interact(backupCmd("note", { id, text: "before the reorg" }))),
      /Note saved/,
    );

    // Cap: a second backup (cooldown lifted), then a third is refused.
    await bot.kv.set(keys.backupGuild(GUILD), { seq: 50, lastCreatedAt: 0 });
    const second = await bot.interact(backupCmd("create", { label: "second" }));
    const id2 = /Backup `([a-z0-9]+)`/.exec(text(second))![1];
    await bot.kv.set(keys.backupGuild(GUILD), { seq: 60, lastCreatedAt: 0 });
    const third = await bot.interact(backupCmd("create"));
    assert.match(text(third), /the most allowed \(2\)/);

    // Delete with confirmation.
    const ask = await bot.interact(backupCmd("delete", { id: id2 }));
    const [del, cancel] = buttons(ask);
    assert.deepStrictEqual(del.label, "Delete backup");
    assert.deepStrictEqual(cancel.label, "Cancel");
    const gone = await bot.interact(componentInteraction(del.custom_id!, admin()));
    assert.match(text(gone), /Deleted backup/);
    assert.deepStrictEqual((await listBackups(bot.kv, GUILD)).map((m) => m.id), [id]);

    // One flipped byte in the stored data: /backup verify says so.
    for await (
      const e of bot.kv.list<Uint8Array>({
        prefix: keys.blob("part", ...keys.backupSnapshot(GUILD, id)),
      })
    ) {
      const b = new Uint8Array(e.value);
      b[b.length >> 1] ^= 0x10;
      await bot.kv.set(e.key, b);
      break;
    }
    const bad = await bot.interact(backupCmd("verify", { id }));
    assert.match(text(bad), /failed verification/);

    // Unknown id.
    assert.match(text(await bot.interact(backupCmd("view", { id: "zzzzzzzz" }))), /No backup/);
  } finally {
    await fx.close();
  }
});

Deno.test("/backup restore: toggles, review, confirm with a danger button; diff; status", async () => {
  const fx = await startFixture({ guilds: [{ members: 60, roles: 3 }] });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);
    const id = /Backup `([a-z0-9]+)`/.exec(text(await bot.interact(backupCmd("create"))))![1];
    const role = g.extraRoles[1];
    const roleName = g.roles.get(role)!.name;
    const holders = [...g.members.values()].filter((m) => m.roles.includes(role)).map((m) => m.id);
    emu.state.deleteRole(GUILD, role);

    const diff = await bot.interact(backupCmd("diff", { a: id }));
    assert.match(text(diff), /Roles: \+0 added, -1 removed/);
    assert.match(text(diff), /live server/);

    const menu = await bot.interact(backupCmd("restore", { id }));
    const b = buttons(menu);
    assert.deepStrictEqual(b.map((x) => x.label), [
      "✅ Roles",
      "✅ Categories",
      "✅ Channels",
      "✅ Member roles",
      "✅ Settings",
      "⏪ Rewind: off",
      "Review…",
      "Cancel",
    ]);
    // Turn settings off.
    const toggled = await bot.interact(componentInteraction(b[4].custom_id!, admin()));
    assert.deepStrictEqual(toggled.response.type, InteractionResponseType.UpdateMessage);
    const b2 = buttons(toggled);
    assert.deepStrictEqual(b2[4].label, "⬜ Settings");
    const review = await bot.interact(componentInteraction(b2[6].custom_id!, admin()));
    assert.match(text(review), /Confirm restore/);
    assert.match(text(review), /create \*\*1\*\* missing roles/);
    const confirm = buttons(review)[0];
    assert.deepStrictEqual(confirm.style, 4); // danger
    const started = await bot.interact(componentInteraction(confirm.custom_id!, admin()));
    assert.match(text(started), /Restore of/);
    const done = await bot.waitJob("restore");
    assert.deepStrictEqual(done.progress.state, "completed");
    assert.deepStrictEqual(done.report!.parts, ["roles", "categories", "channels", "members"]);
    const back = [...g.roles.values()].find((r) => r.name === roleName)!;
    assert.ok(back.id !== role);
    for (const h of holders) assert.ok(emu.state.memberRoles(GUILD, h)!.includes(back.id));

    const status = await bot.interact(backupCmd("status"));
    assert.match(text(status), /Restore/);
    assert.match(text(status), /completed/);

    // Diff of two backups: a second one after a member gained a role.
    const [r0] = g.extraRoles;
    const gainer = [...g.members.values()].find((m) =>
      !m.bot && m.id !== g.ownerId && !m.roles.includes(r0)
    )!;
    emu.state.setMemberRoles(GUILD, gainer.id, [...gainer.roles, r0]);
    await bot.kv.set(keys.backupGuild(GUILD), { seq: 70, lastCreatedAt: 0 });
    const id2 = /Backup `([a-z0-9]+)`/.exec(text(await bot.interact(backupCmd("create"))))![1];
    const two = await bot.interact(backupCmd("diff", { a: id, b: id2 }));
    // Role 2 was re-created with a new id: its holders show as changed too.
    const twoText = text(two);
    assert.match(twoText, /Roles: \+1 added, -1 removed/);
    assert.ok(twoText.includes(`Member roles: ${holders.length + 1} members changed`), twoText);

    // Rewind through the menu: members only, rewind on; the gained role goes.
    const menu2 = await bot.interact(backupCmd("restore", { id }));
    let bs = buttons(menu2);
    for (const i of [0, 1, 2, 4]) {
      const label = bs[i].label;
      const next = await bot.interact(componentInteraction(bs[i].custom_id!, admin()));
      bs = buttons(next);
      assert.match(bs[i].label!, /⬜/, label);
    }
    bs = buttons(await bot.interact(componentInteraction(bs[5].custom_id!, admin())));
    assert.deepStrictEqual(bs[5].label, "⏪ Rewind: on");
    const review2 = await bot.interact(componentInteraction(bs[6].custom_id!, admin()));
    assert.match(text(review2), /removing roles they gained since the backup/);
    await bot.interact(componentInteraction(buttons(review2)[0].custom_id!, admin()));
    const rewound = await bot.waitJob("restore");
    assert.deepStrictEqual(rewound.report!.parts, ["members"]);
    assert.deepStrictEqual(rewound.report!.rewind, true);
    assert.ok(!emu.state.memberRoles(GUILD, gainer.id)!.includes(r0));
  } finally {
    await fx.close();
  }
});

Deno.test("/backup schedule, export links (owner only), /audit shows tampering", async () => {
  // SELF_URL set: links point at the served bot (and chunks continue over HTTP).
  const fx = await startFixture({ guilds: [{ members: 20 }] }, { selfUrl: true });
  try {
    const { bot } = fx;
    const group = (name: string, values: Record<string, unknown> = {}) =>
      commandInteraction("backup", [{
        name: "schedule",
        type: ApplicationCommandOptionType.SubcommandGroup,
        options: [{
          name,
          type: ApplicationCommandOptionType.Subcommand,
          options: rawOptions(values),
        }],
      }], admin());
    assert.match(text(await bot.interact(group("enable", { hours: 24 }))), /every \*\*24 h\*\*/);
    assert.match(text(await bot.interact(group("status"))), /every \*\*24 h\*\*/);
    assert.match(text(await bot.interact(group("disable"))), /off/);

    const id = /Backup `([a-z0-9]+)`/.exec(text(await bot.interact(backupCmd("create"))))![1];
    const notOwner = await bot.interact(backupCmd("export", { id }));
    assert.match(text(notOwner), /Only the bot owner/);
    const owner = await bot.interact(
      backupCmd("export", { id }, { permissions: ADMIN, userId: OWNER }),
    );
    const link = buttons(owner)[0].url!;
    assert.match(link, /\/backups\/download\/\d+\/[a-z0-9]+\?exp=\d+&sig=/);
    const res = await fetch(link);
    assert.deepStrictEqual(res.status, 200);
    const disposition = res.headers.get("content-disposition")!;
    assert.ok(disposition.includes(`backup-${GUILD}-${id}.json`), disposition);
    const file = await res.json();
    assert.deepStrictEqual(file.backup.id, id);
    const tampered = await fetch(link.replace(/sig=./, "sig=A"));
    assert.deepStrictEqual(tampered.status, 401);
    await tampered.body?.cancel();
    const exp = Number(/exp=(\d+)/.exec(link)![1]);
    const expired = await fetch(link.replace(`exp=${exp}`, `exp=${exp - 3600}`));
    assert.deepStrictEqual(expired.status, 401); // the signature covers the expiry
    await expired.body?.cancel();
    const old = await createExportLink(bot.deps, bot.app.keys.export, GUILD, id, -1_000);
    const late = await fetch(old.url);
    assert.deepStrictEqual(late.status, 410);
    await late.body?.cancel();

    // /audit: every action is there, and the chain verifies...
    const auditView = await bot.interact(commandInteraction("audit", [], admin()));
    const t = text(auditView);
    assert.match(t, /Chain verified/);
    for (const action of ["backup.schedule.enable", "backup.create", "backup.export.link"]) {
      assert.ok(t.includes(action), t);
    }
    // ...until an entry is edited in KV.
    const entry = await bot.kv.get<{ detail: Record<string, unknown> }>(keys.auditEntry(GUILD, 2));
    await bot.kv.set(keys.auditEntry(GUILD, 2), { ...entry.value!, detail: { hours: 1 } });
    const broken = await bot.interact(commandInteraction("audit", [], admin()));
    assert.match(text(broken), /Chain broken at entry #2/);
  } finally {
    await fx.close();
  }
});
