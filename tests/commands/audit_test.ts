/**
 * lib/commands/audit.ts: /audit pages the server's audit log newest first with Newer/Older
 * buttons, checks the hash chain on every view, and is for administrators only.
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { audit, AUDIT_PAGE } from "../../lib/commands/audit.ts";
import { appendAudit } from "../../lib/audit/mod.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  commandInteraction,
  componentInteraction,
  GUILD_ID,
  rawOptions,
  type TestApp,
  withTestApp,
} from "../_harness.ts";

const ADMIN = { permissions: PermissionFlagsBits.Administrator };

interface Page {
  type: number;
  data: {
    content?: string;
    flags?: number;
    embeds?: { color: number; description: string; footer: { text: string } }[];
    components?: { components: { custom_id: string; disabled: boolean; label: string }[] }[];
  };
}

async function fill(t: TestApp, n: number) {
  for (let i = 1; i <= n; i++) {
    await appendAudit(t.deps, {
      guildId: GUILD_ID,
      actor: i % 2 ? { id: "1", name: "Ann" } : "cron",
      action: `act.${i}`,
      detail: i === 25 ? { a: "x", b: 2, c: null, d: [1], e: true, f: "more" } : {},
    });
  }
}

const seqs = (p: Page) =>
  [...p.data.embeds![0].description.matchAll(/^`#(\d+)`/gm)].map((m) => Number(m[1]));

const withApp = (fn: (t: TestApp) => Promise<void>): Promise<void> =>
  withTestApp({ commands: [audit] }, fn);

Deno.test("/audit: an empty log says so", () =>
  withApp(async (t) => {
    const res: Page = await (await t.post(commandInteraction("audit", [], ADMIN))).json();
    assert.equal(res.data.content, "The audit log of this server is empty.");
    assert.equal(res.data.flags! & 64, 64);
  }));

Deno.test("/audit: newest first, ten a page, the chain verified, paged with the buttons", () =>
  withApp(async (t) => {
    await fill(t, 25);
    const first: Page = await (await t.post(commandInteraction("audit", [], ADMIN))).json();
    assert.equal(AUDIT_PAGE, 10);
    assert.deepEqual(seqs(first), [25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    const embed = first.data.embeds![0];
    assert.equal(embed.color, 0x2e7d32);
    assert.match(embed.description, /^✅ Chain verified: 25 entries/);
    assert.match(
      embed.description,
      /`#25` <t:\d+:f> \*\*act\.25\*\* by Ann\n {2}a=x b=2 d=\[1\] e=true\n/,
    );
    assert.match(embed.description, /`#24` <t:\d+:f> \*\*act\.24\*\* by cron/);
    assert.equal(embed.footer.text, "Page 1 of 3 · entries #1–#25");
    const [newer, older] = first.data.components![0].components;
    assert.deepEqual([newer.label, newer.disabled, older.label, older.disabled], [
      "Newer",
      true,
      "Older",
      false,
    ]);
    const second: Page = await (await t.post(componentInteraction(older.custom_id, ADMIN))).json();
    assert.equal(second.type, 7, "the message is updated in place");
    assert.deepEqual(seqs(second), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
    const last: Page = await (await t.post(
      commandInteraction("audit", rawOptions({ page: 3 }), ADMIN),
    )).json();
    assert.deepEqual(seqs(last), [5, 4, 3, 2, 1]);
    assert.equal(last.data.components![0].components[1].disabled, true, "no older page");
    const beyond: Page = await (await t.post(
      commandInteraction("audit", rawOptions({ page: 99 }), ADMIN),
    )).json();
    assert.deepEqual(seqs(beyond), [5, 4, 3, 2, 1], "past the end: the last page");
  }));

Deno.test("/audit: an edited entry shows the chain broken, in red", () =>
  withApp(async (t) => {
    await fill(t, 5);
    const key = keys.auditEntry(GUILD_ID, 3);
    const entry = (await t.deps.kv.get<Record<string, unknown>>(key)).value!;
    await t.deps.kv.set(key, { ...entry, action: "forged" });
    const res: Page = await (await t.post(commandInteraction("audit", [], ADMIN))).json();
    const embed = res.data.embeds![0];
    assert.equal(embed.color, 0xc62828);
    assert.match(embed.description, /^❌ \*\*Chain broken at entry #3\*\*: entry was modified/);
  }));

Deno.test("/audit: other guilds' logs are not shown; members without Administrator see nothing", () =>
  withApp(async (t) => {
    await appendAudit(t.deps, {
      guildId: "200000000000000009",
      actor: "cron",
      action: "elsewhere",
    });
    const res: Page = await (await t.post(commandInteraction("audit", [], ADMIN))).json();
    assert.equal(res.data.content, "The audit log of this server is empty.");
    await fill(t, 2);
    const denied: Page = await (await t.post(commandInteraction("audit", [], {
      permissions: PermissionFlagsBits.ManageGuild,
    }))).json();
    assert.equal(denied.data.embeds, undefined);
    assert.doesNotMatch(JSON.stringify(denied), /act\.1/);
  }));
