/**
 * lib/commands/privacy.ts, the command's own part: deferred and private, the sources' report put
 * into words in the member's language (one entry or many), the reply cut to Discord's 2,000
 * characters, and usable in a DM. (tests/privacy/ covers what each source holds and deletes.)
 */
import assert from "node:assert/strict";
import { MessageFlags } from "discord-api-types/v10";
import { privacy } from "../../lib/commands/privacy.ts";
import { keys } from "../../lib/kv/keys.ts";
import { commandInteraction, subcommand, type TestApp, USER_ID, withTestApp } from "../_harness.ts";

async function run(
  t: TestApp,
  name: "view" | "delete",
  o: { locale?: string; guildId?: string | null } = {},
) {
  t.clock.advance(10_000); // past the cooldown
  const interaction = {
    ...commandInteraction("privacy", subcommand(name), { guildId: o.guildId }),
    ...(o.locale ? { locale: o.locale } : {}),
  };
  const res = await (await t.post(interaction)).json();
  await t.settle();
  const edit = t.calls.filter((c) => c.method === "PATCH" && c.path.endsWith("/@original")).at(-1);
  return { res, text: (edit?.body as { content: string }).content };
}

const withApp = (fn: (t: TestApp) => Promise<void>): Promise<void> =>
  withTestApp({ commands: [privacy] }, fn);

Deno.test("/privacy view: deferred and private; every source named with how long it is kept", () =>
  withApp(async (t) => {
    const { res, text } = await run(t, "view");
    assert.equal(res.type, 5);
    assert.equal(res.data.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
    const lines = text.split("\n");
    assert.equal(lines[0], "Here is everything the bot stores about you:");
    assert.ok(
      lines.includes(
        '**Cached Ethos score** (kept 3600 s (600 s for "no score"): ETHOS_SCORE_TTL_S, ETHOS_NO_SCORE_TTL_S)',
      ),
      text,
    );
    assert.equal(lines.filter((l) => /^\*\*.+\*\* \(kept /.test(l)).length, 11);
  }));

Deno.test("/privacy view: in the member's language", () =>
  withApp(async (t) => {
    const { text } = await run(t, "view", { locale: "es-ES" });
    assert.match(text, /^Esto es todo lo que el bot guarda sobre ti:\n/);
    assert.match(text, /\n- nada\n/);
  }));

Deno.test("/privacy view: a long report is cut to Discord's 2,000 characters", () =>
  withApp(async (t) => {
    for (let i = 0; i < 150; i++) {
      await t.deps.kv.set(keys.cooldown(USER_ID, `command_with_a_long_name_${i}`), { at: [1] });
    }
    const { text } = await run(t, "view");
    assert.equal(text.length, 2_000);
  }));

Deno.test("/privacy view and delete work in a DM, where there is no server", () =>
  withApp(async (t) => {
    const view = await run(t, "view", { guildId: null });
    assert.match(view.text, /^Here is everything the bot stores about you:/);
    const del = await run(t, "delete", { guildId: null });
    assert.match(del.text, /^Deleted:\n/);
  }));

Deno.test("/privacy delete: one entry or many, and nothing else kept", () =>
  withApp(async (t) => {
    await t.deps.kv.set(keys.ethosScore(USER_ID), { s: 1, x: t.clock.now() + 60_000 });
    await t.deps.kv.set(keys.cooldown(USER_ID, "ethos"), { at: [1] });
    const { res, text } = await run(t, "delete");
    assert.equal(res.type, 5);
    const lines = text.split("\n");
    assert.equal(lines[0], "Deleted:");
    assert.ok(lines.includes("- Cached Ethos score: 1 entry"), text);
    // Its own use of /privacy left a cooldown next to the one set above.
    assert.ok(lines.includes("- Command cooldowns: 2 entries"), text);
    assert.ok(lines.includes("- Cached Ethos profile: 0 entries"), text);
    assert.deepEqual(lines.slice(-2), [
      "Nothing else is stored about you.",
      "Your Ethos score will be looked up again the next time your roles are synced.",
    ]);
    assert.ok(
      t.log.lines.some((l) => l.msg === "member data deleted on request" && l.user === USER_ID),
    );
    assert.equal((await t.deps.kv.get(keys.ethosScore(USER_ID))).versionstamp, null);
  }));
