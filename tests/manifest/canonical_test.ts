import assert from "node:assert/strict";
import {
  canonicalCommand,
  canonicalManifest,
  canonicalManifestJson,
  fingerprint,
  stableStringify,
} from "../../lib/manifest/canonical.ts";
import { botManifest } from "./_env.ts";

/** A fixed manifest: its fingerprint is pinned below, so any change to the form is noticed. */
const PING = { name: "ping", description: "Check the bot answers" };
const SCORE_OPTIONS = [
  { type: 6, name: "user", description: "Whose score", required: true },
  {
    type: 3,
    name: "format",
    description: "How to show it",
    choices: [{ name: "Short", value: "short" }, { name: "Long", value: "long" }],
  },
];
const SCORE = {
  type: 1,
  name: "score",
  description: "Show an Ethos score",
  default_member_permissions: "32",
  contexts: [0],
  integration_types: [0],
  options: SCORE_OPTIONS,
};
const GOLDEN = [PING, SCORE];
/** Checked independently: `printf '%s' "$GOLDEN_JSON" | sha256sum`. */
const GOLDEN_FINGERPRINT = "7e85d2c471f5c71d61d45d6420026de0a12c7a2dafa93458d68934be36446f25";
const GOLDEN_JSON = JSON.stringify([{
  "contexts": null,
  "default_member_permissions": null,
  "description": "Check the bot answers",
  "description_localizations": null,
  "dm_permission": true,
  "integration_types": [0],
  "name": "ping",
  "name_localizations": null,
  "nsfw": false,
  "options": [],
  "type": 1,
}, {
  "contexts": [0],
  "default_member_permissions": "32",
  "description": "Show an Ethos score",
  "description_localizations": null,
  "dm_permission": true,
  "integration_types": [0],
  "name": "score",
  "name_localizations": null,
  "nsfw": false,
  "options": [{
    "autocomplete": false,
    "description": "Whose score",
    "description_localizations": null,
    "name": "user",
    "name_localizations": null,
    "required": true,
    "type": 6,
  }, {
    "autocomplete": false,
    "choices": [{ "name": "Short", "name_localizations": null, "value": "short" }, {
      "name": "Long",
      "name_localizations": null,
      "value": "long",
    }],
    "description": "How to show it",
    "description_localizations": null,
    "name": "format",
    "name_localizations": null,
    "required": false,
    "type": 3,
  }],
  "type": 1,
}]);

/** Rebuilds a value with every object's keys in reverse order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
  }
  return v;
}

Deno.test("golden: the canonical JSON and fingerprint of a fixed manifest are pinned", async () => {
  assert.deepStrictEqual(canonicalManifestJson(GOLDEN), GOLDEN_JSON);
  assert.deepStrictEqual(await fingerprint(GOLDEN), GOLDEN_FINGERPRINT);
});

Deno.test("key order and command order do not change the fingerprint", async () => {
  const fp = await fingerprint(GOLDEN);
  assert.deepStrictEqual(await fingerprint(reverseKeys(GOLDEN) as unknown[]), fp);
  assert.deepStrictEqual(await fingerprint([...GOLDEN].reverse()), fp);
  const bot = botManifest();
  assert.deepStrictEqual(
    await fingerprint(reverseKeys([...bot].reverse()) as unknown[]),
    await fingerprint(bot),
  );
});

Deno.test("defaults written out and omitted give the same canonical form", () => {
  const terse = {
    name: "x",
    description: "d",
    options: [{ type: 3, name: "a", description: "b" }],
  };
  const explicit = {
    type: 1,
    name: "x",
    description: "d",
    name_localizations: {},
    description_localizations: null,
    options: [{
      type: 3,
      name: "a",
      description: "b",
      required: false,
      autocomplete: false,
      choices: [],
      channel_types: [],
    }],
    default_member_permissions: null,
    dm_permission: true,
    contexts: null,
    integration_types: [0],
    nsfw: false,
  };
  assert.deepStrictEqual(canonicalManifestJson([terse]), canonicalManifestJson([explicit]));
});

Deno.test("server-side fields never reach the canonical form", () => {
  const sent = SCORE;
  const echoed = {
    ...sent,
    id: "900000000000000001",
    application_id: "100000000000000001",
    guild_id: "200000000000000001",
    version: "900000000000000002",
    default_permission: true,
    dm_permission: true,
    nsfw: false,
    // Discord drops `required: false` and sorts nothing else.
    options: SCORE_OPTIONS.map((o) => ({ ...o })),
  };
  assert.deepStrictEqual(
    stableStringify(canonicalCommand(echoed)),
    stableStringify(canonicalCommand(sent)),
  );
});

Deno.test("what changes a command changes its fingerprint", async () => {
  const fp = await fingerprint(GOLDEN);
  const variants: unknown[][] = [
    [PING, { ...SCORE, description: "Other" }],
    [PING, { ...SCORE, default_member_permissions: null }],
    [PING, { ...SCORE, options: [...SCORE_OPTIONS].reverse() }],
    [PING, { ...SCORE, nsfw: true }],
    [PING, { ...SCORE, name_localizations: { fr: "note" } }],
    [PING],
  ];
  const seen = new Set<string>([fp]);
  for (const v of variants) {
    const other = await fingerprint(v);
    assert.notDeepStrictEqual(other, fp);
    seen.add(other);
  }
  assert.deepStrictEqual(seen.size, variants.length + 1);
});

Deno.test("sets are sorted, lists keep their order, commands sort by type then name", () => {
  const c = canonicalCommand({
    name: "x",
    description: "d",
    contexts: [2, 0, 1],
    integration_types: [1, 0],
    options: [{ type: 7, name: "ch", description: "c", channel_types: [5, 0] }],
  });
  assert.deepStrictEqual(c.contexts, [0, 1, 2]);
  assert.deepStrictEqual(c.integration_types, [0, 1]);
  assert.deepStrictEqual((c.options as { channel_types: number[] }[])[0].channel_types, [0, 5]);
  const sorted = canonicalManifest([
    { type: 2, name: "a" },
    { name: "zeta", description: "d" },
    { name: "Zeta", description: "d" },
    { name: "alpha", description: "d" },
  ]).map((x) => `${x.type}:${x.name}`);
  // Code-unit order ("Z" < "a"), never a locale's.
  assert.deepStrictEqual(sorted, ["1:Zeta", "1:alpha", "1:zeta", "2:a"]);
});

Deno.test("stableStringify sorts keys at every depth and drops undefined", () => {
  assert.deepStrictEqual(
    stableStringify({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }),
    [
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
    ][0],
  );
  assert.ok(stableStringify(null) === "null");
});
