/** lib/manifest/scope.ts: scope names, the target scope, and the GET of a scope's commands. */
import assert from "node:assert/strict";
import type { RestClient } from "../../lib/discord/rest.ts";
import { fetchRegistered, guildScope, scopeGuild, targetScope } from "../../lib/manifest/scope.ts";

Deno.test("scope: a guild scope names its guild; global names none", () => {
  assert.equal(guildScope("123"), "guild:123");
  assert.equal(scopeGuild(guildScope("123")), "123");
  assert.equal(scopeGuild("global"), undefined);
});

Deno.test("scope: the target is the dev guild when configured, else global", () => {
  assert.equal(targetScope({}), "global");
  assert.equal(targetScope({ devGuildId: undefined }), "global");
  assert.equal(targetScope({ devGuildId: "42" }), "guild:42");
});

Deno.test("scope: the commands are read with their localisations, per scope", async () => {
  const gets: { path: string; opts: Record<string, unknown> }[] = [];
  const rest = {
    get: (path: string, opts: Record<string, unknown>) => {
      gets.push({ path, opts });
      return Promise.resolve([]);
    },
  } as unknown as RestClient;
  const signal = new AbortController().signal;
  const env = { rest, applicationId: "app/1" };
  assert.deepStrictEqual(await fetchRegistered(env, "global", { signal }), []);
  await fetchRegistered(env, "guild:7");
  assert.deepStrictEqual(gets, [
    {
      path: "/applications/app%2F1/commands",
      opts: { signal, query: { with_localizations: true } },
    },
    {
      path: "/applications/app%2F1/guilds/7/commands",
      opts: { query: { with_localizations: true } },
    },
  ]);
});
