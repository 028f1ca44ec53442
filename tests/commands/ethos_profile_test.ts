/**
 * /ethos, /ethosx and the "Ethos profile" context menu through signed interactions against the
 * emulator: the card, privacy, no profile, bots and unknown users, invalid handles (no Ethos
 * call), Ethos failing (never "no profile"), Ethos slow (deferred, then edited), the one-minute
 * cache, the cooldown, and Spanish.
 */
import {
  type APIInteraction,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionResponseType,
  MessageFlags,
} from "discord-api-types/v10";
import assert from "node:assert/strict";
import { commandInteraction, nextId } from "../_harness.ts";
import { type Fixture, startFixture } from "../backup/_fixture.ts";
import { LEVEL_COLORS } from "../../lib/ethos/levels.ts";

const ALICE = "111111111111111111";
const NOPROFILE = "222222222222222222";
const BOT = "333333333333333333";
let askers = 0;
/** A fresh asker per call keeps the lookup cooldown out of the way unless a test wants it. */
const asker = () => String(350000000000000000n + BigInt(++askers));

const users: Record<string, Record<string, unknown>> = {
  [ALICE]: { id: ALICE, username: "alice", global_name: "Alice A", avatar: null },
  [NOPROFILE]: { id: NOPROFILE, username: "newbie", global_name: null, avatar: null },
  [BOT]: { id: BOT, username: "somebot", avatar: null, bot: true },
};

function ethosCmd(
  target: string,
  o: { private?: boolean; locale?: string; userId?: string; resolve?: boolean } = {},
): APIInteraction {
  const options: { name: string; type: number; value: unknown }[] = [
    { name: "user", type: ApplicationCommandOptionType.User, value: target },
  ];
  if (o.private !== undefined) {
    options.push({ name: "private", type: ApplicationCommandOptionType.Boolean, value: o.private });
  }
  const i = commandInteraction("ethos", options, { userId: o.userId ?? asker() }) as unknown as {
    data: Record<string, unknown>;
    locale: string;
  };
  if (o.resolve !== false && users[target]) {
    i.data.resolved = { users: { [target]: users[target] } };
  }
  if (o.locale) i.locale = o.locale;
  return i as unknown as APIInteraction;
}

function ethosx(handle: string): APIInteraction {
  return commandInteraction("ethosx", [
    { name: "handle", type: ApplicationCommandOptionType.String, value: handle },
  ], { userId: asker() });
}

function menu(target: string): APIInteraction {
  const i = commandInteraction("Ethos profile", [], { userId: asker() }) as unknown as {
    data: Record<string, unknown>;
  };
  i.data = {
    id: "600000000000000002",
    name: "Ethos profile",
    type: ApplicationCommandType.User,
    target_id: target,
    resolved: { users: { [target]: users[target] } },
  };
  return i as unknown as APIInteraction;
}

async function withBot(fn: (fx: Fixture) => Promise<void>) {
  const fx = await startFixture({ guilds: [{ members: 5 }] });
  try {
    fx.emu.state.setProfile(ALICE, {
      score: 2050,
      displayName: "Alice",
      validator: true,
      human: false,
      reviews: { positive: 19, neutral: 0, negative: 1 },
      vouches: { count: 2, amountWei: "250000000000000000" },
      topReview: { comment: "Paid back early.", author: "carol", upvotes: 12 },
    });
    await fn(fx);
  } finally {
    await fx.close();
  }
}

const ephemeral = (r: { data?: { flags?: number } }) =>
  ((r.data?.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
const profileCalls = (fx: Fixture) => fx.emu.stats.ethosCalls["GET /user/by/discord/:id"] ?? 0;

Deno.test("/ethos: a public card with level colour, score, reviews, vouches, badges, top review", () =>
  withBot(async (fx) => {
    const { response: r } = await fx.bot.interact(ethosCmd(ALICE));
    assert.deepStrictEqual(r.type, InteractionResponseType.ChannelMessageWithSource);
    assert.ok(!ephemeral(r), "public by default");
    const card = r.data!.embeds![0] as Record<string, unknown> & {
      fields: { name: string; value: string }[];
    };
    assert.deepStrictEqual(card.color, LEVEL_COLORS.exemplary);
    assert.deepStrictEqual(card.url, `https://app.ethos.network/profile/discord/${ALICE}`);
    assert.match(String(card.title), /Alice/);
    assert.match(String(card.description), /\*\*Exemplary\*\* · score \*\*2,050\*\*/);
    const fields = Object.fromEntries(card.fields.map((f) => [f.name, f.value]));
    assert.deepStrictEqual(fields["Reviews received"], "20 (95% positive)");
    assert.deepStrictEqual(fields["Vouches received"], "0.25 ETH from 2");
    assert.deepStrictEqual(fields["Badges"], "🛡️ Validator");
    assert.match(fields["Most upvoted review"], /> Paid back early\./);
    assert.match(fields["Most upvoted review"], /carol, 12 upvotes/);
    // private:true makes it ephemeral.
    const priv = await fx.bot.interact(ethosCmd(ALICE, { private: true }));
    assert.ok(ephemeral(priv.response));
  }));

Deno.test("/ethos: no profile, bots and users Discord did not resolve get clear replies", () =>
  withBot(async (fx) => {
    const none = (await fx.bot.interact(ethosCmd(NOPROFILE))).response;
    assert.ok(none.data!.content!.includes("**newbie** has no Ethos profile"), none.data!.content!);
    assert.ok(
      none.data!.content!.includes("https://app.ethos.network/profile/settings?tab=social"),
      none.data!.content!,
    );
    const before = profileCalls(fx);
    const bot = (await fx.bot.interact(ethosCmd(BOT))).response;
    assert.ok(ephemeral(bot));
    assert.deepStrictEqual(bot.data!.content, "Bots have no Ethos profile.");
    // A user option pointing at something Discord did not resolve as a user (e.g. a role id).
    const role = (await fx.bot.interact(ethosCmd("444444444444444444", { resolve: false })))
      .response;
    assert.ok(ephemeral(role));
    assert.match(role.data!.content!, /can't see that user/);
    assert.deepStrictEqual(profileCalls(fx), before, "no Ethos call for either");
  }));

Deno.test("/ethos: Ethos failing says so plainly, ephemerally, and never 'no profile'", () =>
  withBot(async (fx) => {
    // A fast failure (a 400 is not retried): the answer itself is ephemeral.
    fx.emu.state.ethos.failing = true;
    fx.emu.state.ethos.failStatus = 400;
    const { response: r } = await fx.bot.interact(ethosCmd(NOPROFILE));
    assert.deepStrictEqual(r.type, InteractionResponseType.ChannelMessageWithSource);
    assert.ok(ephemeral(r));
    assert.deepStrictEqual(r.data!.content, "Ethos is not answering, try again in a minute.");
    // A slow failure (5xx retried past the answer-now mark): the public "thinking" message is
    // deleted and the asker alone is told.
    fx.emu.state.ethos.failStatus = 500;
    fx.emu.state.ethos.latencyMs = 800;
    const slow = ethosCmd(ALICE);
    const { response: d, messages } = await fx.bot.interact(slow);
    assert.deepStrictEqual(d.type, InteractionResponseType.DeferredChannelMessageWithSource);
    const token = (slow as unknown as { token: string }).token;
    const all = fx.emu.state.webhookMessages(token, true);
    assert.ok(all.some((m) => m.deleted), "the deferred original is deleted");
    assert.deepStrictEqual(messages.length, 1, JSON.stringify(messages));
    const followup = messages[0] as { content?: string; flags?: number };
    assert.deepStrictEqual(followup.content, "Ethos is not answering, try again in a minute.");
    assert.ok(((followup.flags ?? 0) & MessageFlags.Ephemeral) !== 0);
    assert.ok(!JSON.stringify(all).includes("no Ethos profile"));
  }));

Deno.test("/ethos: a slow Ethos is acknowledged in time and the card edited in", () =>
  withBot(async (fx) => {
    fx.emu.state.ethos.latencyMs = 1_200; // two calls (user, review): past the 1.5 s answer-now mark
    const t0 = Date.now();
    const { response: r, messages } = await fx.bot.interact(ethosCmd(ALICE));
    assert.deepStrictEqual(r.type, InteractionResponseType.DeferredChannelMessageWithSource);
    assert.ok(!ephemeral(r), "the deferral of a public lookup is public");
    assert.ok(Date.now() - t0 >= 2_400);
    const edited = messages.at(-1) as { embeds?: { description?: string }[] };
    assert.ok(
      edited.embeds![0].description!.includes("score **2,050**"),
      edited.embeds![0].description!,
    );
  }));

Deno.test("/ethos: a burst of lookups of one user makes one Ethos call; the cooldown holds", () =>
  withBot(async (fx) => {
    const before = profileCalls(fx);
    for (let i = 0; i < 4; i++) await fx.bot.interact(ethosCmd(ALICE));
    assert.deepStrictEqual(profileCalls(fx) - before, 1);
    const me = asker();
    for (let i = 0; i < 5; i++) {
      const r = (await fx.bot.interact(ethosCmd(ALICE, { userId: me }))).response;
      assert.deepStrictEqual(r.type, InteractionResponseType.ChannelMessageWithSource);
      assert.ok(!r.data!.content?.startsWith("Slow down"), `use ${i + 1}`);
    }
    const sixth = (await fx.bot.interact(ethosCmd(ALICE, { userId: me }))).response;
    assert.match(sixth.data!.content!, /Slow down/);
  }));

Deno.test("/ethosx: by X handle with or without @; invalid handles are explained without a call", () =>
  withBot(async (fx) => {
    fx.emu.state.setProfile(ALICE, { xHandle: "alice_eth" });
    for (const handle of ["alice_eth", "@Alice_ETH", "  @alice_eth "]) {
      const r = (await fx.bot.interact(ethosx(handle))).response;
      assert.match(String(r.data!.embeds![0].title), /Alice/, handle);
    }
    const none = (await fx.bot.interact(ethosx("nobody_x"))).response;
    assert.ok(
      none.data!.content!.includes("No Ethos profile is linked to **@nobody_x** on X"),
      none.data!.content!,
    );
    const before = fx.emu.stats.ethosCalls["GET /user/by/x/:id"] ?? 0;
    for (
      const bad of ["two words", "https://x.com/alice_eth", "a".repeat(16), "@", "al-ice", "`x`"]
    ) {
      const r = (await fx.bot.interact(ethosx(bad))).response;
      assert.ok(ephemeral(r), bad);
      assert.match(r.data!.content!, /is not an X handle/, bad);
    }
    assert.deepStrictEqual(fx.emu.stats.ethosCalls["GET /user/by/x/:id"] ?? 0, before);
  }));

Deno.test("context menu 'Ethos profile': the card, ephemerally", () =>
  withBot(async (fx) => {
    const { response: r } = await fx.bot.interact(menu(ALICE));
    assert.ok(ephemeral(r));
    assert.match(String(r.data!.embeds![0].description), /score \*\*2,050\*\*/);
    const bot = (await fx.bot.interact(menu(BOT))).response;
    assert.deepStrictEqual(bot.data!.content, "Bots have no Ethos profile.");
  }));

Deno.test("/ethos in Spanish: the card and the replies follow the member's locale", () =>
  withBot(async (fx) => {
    const { response: r } = await fx.bot.interact(ethosCmd(ALICE, { locale: "es-ES" }));
    const card = r.data!.embeds![0] as {
      description: string;
      fields: { name: string; value: string }[];
    };
    assert.ok(card.description.includes("**Ejemplar** · puntuación **2050**"), card.description);
    const fields = Object.fromEntries(card.fields.map((f) => [f.name, f.value]));
    assert.deepStrictEqual(fields["Reseñas recibidas"], "20 (95\u00a0% positivas)");
    assert.deepStrictEqual(fields["Avales recibidos"], "0,25 ETH de 2");
    const none = (await fx.bot.interact(ethosCmd(NOPROFILE, { locale: "es-419" }))).response;
    assert.match(none.data!.content!, /aún no tiene un perfil de Ethos/);
  }));

Deno.test("the manifest carries the new commands with their Spanish localizations", () =>
  withBot((fx) => {
    const manifest = fx.bot.app.registry.manifest() as unknown as Record<string, unknown>[];
    const byName = new Map(manifest.map((c) => [c.name, c]));
    assert.deepStrictEqual(
      (byName.get("ethos")!.description_localizations as Record<string, string>)["es-ES"],
      "Muestra el perfil de Ethos de un miembro",
    );
    const m = byName.get("Ethos profile")!;
    assert.deepStrictEqual(m.type, ApplicationCommandType.User);
    assert.deepStrictEqual(
      (m.name_localizations as Record<string, string>)["es-419"],
      "Perfil de Ethos",
    );
    void nextId;
    return Promise.resolve();
  }));
