import { MessageFlags } from "discord-api-types/v10";
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { commandInteraction, createTestApp, subcommand, USER_ID } from "../_harness.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test("/privacy view shows what is stored; delete removes it and says what stays", async () => {
  const t = await createTestApp();
  const post = async (p: unknown) => {
    t.clock.advance(2_000);
    const r = await (await t.post(p)).json();
    await t.settle();
    return r;
  };
  try {
    // Some data about the member: a cached score, cooldown hits, interaction records.
    await t.deps.kv.set(keys.ethosScore(USER_ID), { s: 1650, x: t.clock.now() + 3_600_000 });
    await post(commandInteraction("help"));
    const other = "300000000000000777";
    await t.deps.kv.set(keys.ethosScore(other), { s: 900, x: t.clock.now() + 3_600_000 });

    const view = await post(commandInteraction("privacy", subcommand("view")));
    assert((view.data.flags & MessageFlags.Ephemeral) !== 0, "ephemeral");
    assertStringIncludes(view.data.content, "score 1650");
    assertStringIncludes(view.data.content, "/help: 1 recent uses");
    assertStringIncludes(view.data.content, "recent interactions");

    const del = await post(commandInteraction("privacy", subcommand("delete")));
    assertStringIncludes(del.data.content, "Cached Ethos score: 1 entry");
    assertStringIncludes(del.data.content, "Command cooldowns:");
    assertEquals((await t.deps.kv.get(keys.ethosScore(USER_ID))).versionstamp, null);
    // Another member's data is untouched.
    assert((await t.deps.kv.get(keys.ethosScore(other))).versionstamp !== null);
    let left = 0;
    for await (const _ of t.deps.kv.list({ prefix: keys.cooldownsOfUser(USER_ID) })) left++;
    // Only the cooldown hits of the /privacy delete call itself can remain.
    assert(left <= 1, `cooldowns left: ${left}`);

    const after = await post(commandInteraction("privacy", subcommand("view")));
    assert(!after.data.content.includes("score 1650"));
  } finally {
    await t.close();
  }
});
