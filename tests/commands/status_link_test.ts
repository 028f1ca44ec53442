/**
 * lib/commands/status_link.ts: /status_link hands an administrator a signed, one-hour link to the
 * status page, privately, and says how to get one when the bot does not know its address.
 */
import assert from "node:assert/strict";
import { MessageFlags, PermissionFlagsBits } from "discord-api-types/v10";
import { statusLink } from "../../lib/commands/status_link.ts";
import { exchangeLink, LINK_TTL_MS } from "../../lib/http/status_access.ts";
import { commandInteraction, createTestApp, USER_ID } from "../_harness.ts";

const ADMIN = { permissions: PermissionFlagsBits.Administrator };

Deno.test("/status_link: a link to the status page's login, valid for one hour, for admins only", async () => {
  const t = await createTestApp({
    commands: [statusLink],
    env: { SELF_URL: "https://bot.example" },
  });
  try {
    const res = await (await t.post(commandInteraction("status_link", [], ADMIN))).json();
    assert.equal(res.data.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
    const content: string = res.data.content;
    const url = new URL(/\]\((https:[^)]+)\)/.exec(content)![1]);
    assert.equal(`${url.origin}${url.pathname}`, "https://bot.example/status/login");
    const expiresAt = t.clock.now() + LINK_TTL_MS;
    assert.ok(content.includes(`valid until <t:${Math.floor(expiresAt / 1000)}:t>`), content);
    // The link opens a session now, signed with the status-link key; not after the hour.
    const keys = t.app.keys;
    const token = url.searchParams.get("t");
    assert.ok(await exchangeLink(keys.statusLink, keys.session, token, t.clock.now(), true));
    assert.equal(await exchangeLink(keys.statusLink, keys.session, token, expiresAt, true), null);
    assert.equal(await exchangeLink(keys.session, keys.session, token, t.clock.now(), true), null);
    assert.ok(t.log.lines.some((l) => l.msg === "status link issued" && l.by === USER_ID));
  } finally {
    await t.close();
  }
});

Deno.test("/status_link: without SELF_URL it says what to set", async () => {
  const t = await createTestApp({ commands: [statusLink] });
  try {
    const res = await (await t.post(commandInteraction("status_link", [], ADMIN))).json();
    assert.match(res.data.content, /set `SELF_URL`/);
    assert.doesNotMatch(res.data.content, /status\/login/);
  } finally {
    await t.close();
  }
});

Deno.test("/status_link: a member without Administrator gets no link", async () => {
  const t = await createTestApp({
    commands: [statusLink],
    env: { SELF_URL: "https://bot.example" },
  });
  try {
    const res = await (await t.post(commandInteraction("status_link", [], {
      permissions: PermissionFlagsBits.ManageGuild,
    }))).json();
    assert.doesNotMatch(JSON.stringify(res), /status\/login/);
    assert.equal(t.log.lines.some((l) => l.msg === "status link issued"), false);
  } finally {
    await t.close();
  }
});
