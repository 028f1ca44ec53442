import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Routes } from "discord-api-types/v10";
import type { Emulator } from "./server.ts";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

const small = { guilds: [{ members: 3 }] };

const records = [
  { type: 2, key: "score", name: "Ethos score", description: "Credibility score at least" },
  {
    type: 7,
    key: "verified",
    name: "Verified",
    description: "Has an Ethos profile",
    name_localizations: { fr: "Vérifié", "pt-BR": "Verificado" },
    description_localizations: { de: "Hat ein Ethos-Profil" },
  },
  { type: 6, key: "member_since", name: "Member since", description: "Days on Ethos" },
  { type: 3, key: "tier", name: "Tier", description: "Tier number" },
];

type FormError = { code: number; message: string; errors: Record<string, unknown> };

function invalidForm(errors: Record<string, unknown>) {
  return { code: 50035, message: "Invalid Form Body", errors };
}

function err(code: string, message: string) {
  return { _errors: [{ code, message }] };
}

async function putMetadata(emu: Emulator, body: unknown) {
  return await api<FormError>(
    emu,
    "PUT",
    Routes.applicationRoleConnectionMetadata(emu.applicationId),
    {
      body,
    },
  );
}

/** Registers `records` and returns a user with a full-scope bearer token. */
async function linkedUser(emu: Emulator, index = 0) {
  strictEqual((await putMetadata(emu, records)).status, 200);
  const userId = emu.state.guild(GUILD).members.ids()[index];
  const grant = emu.state.oauth.issueTokens(userId);
  return { userId, auth: `Bearer ${grant.accessToken}` };
}

Deno.test("metadata PUT replaces the records and GET returns them", async () => {
  await withEmulator(small, async (emu) => {
    const path = Routes.applicationRoleConnectionMetadata(emu.applicationId);
    const empty = await api(emu, "GET", path);
    deepStrictEqual([empty.status, empty.body], [200, []]);
    const put = await putMetadata(emu, records);
    strictEqual(put.status, 200);
    deepStrictEqual(put.body, records);
    ok(put.headers.get("x-ratelimit-bucket"));
    deepStrictEqual((await api(emu, "GET", path)).body, records);

    const replaced = await putMetadata(emu, [records[0]]);
    deepStrictEqual(replaced.body, [records[0]]);
    deepStrictEqual(emu.state.roleConnections.metadata(), [records[0]]);
    strictEqual(emu.stats.writesTo("PUT /applications/:app/role-connections/metadata").length, 2);

    // Another application's records are out of reach; bearer tokens do not open them.
    const other = Routes.applicationRoleConnectionMetadata("100000000000000099");
    const forbidden = await api(emu, "GET", other);
    deepStrictEqual([forbidden.status, forbidden.body], [403, {
      message: "Missing Access",
      code: 50001,
    }]);
    const bearer = `Bearer ${emu.state.oauth.issueTokens("1").accessToken}`;
    strictEqual((await api(emu, "GET", path, { auth: bearer })).status, 401);
    strictEqual((await api(emu, "GET", path, { auth: false })).status, 401);
  });
});

Deno.test("metadata validation answers 50035 with Discord's error tree", async () => {
  await withEmulator(small, async (emu) => {
    const six = Array.from({ length: 6 }, (_, i) => ({ ...records[0], key: `k${i}` }));
    const tooMany = await putMetadata(emu, six);
    strictEqual(tooMany.status, 400);
    deepStrictEqual(
      tooMany.body,
      invalidForm(err("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")),
    );

    const notArray = await putMetadata(emu, { records });
    deepStrictEqual(notArray.body, invalidForm(err("BASE_TYPE_ARRAY", "Must be an array.")));

    const bad = await putMetadata(emu, [
      { type: 9, key: "Score", name: "", description: "x".repeat(201) },
      { type: 1, key: "a".repeat(51), name: "n".repeat(101), description: "ok" },
      { type: 1.5, key: "dup", name: "Dup", description: "first" },
      { key: "dup", name: "Dup", description: "second" },
      {
        type: 7,
        key: "loc",
        name: "Loc",
        description: "Localized",
        name_localizations: { xx: "Nope", fr: "" },
        description_localizations: { de: "d".repeat(201) },
      },
    ]);
    strictEqual(bad.status, 400);
    const choices = err("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8}.");
    deepStrictEqual(
      bad.body,
      invalidForm({
        0: {
          type: choices,
          key: err("STRING_TYPE_REGEX", "String value did not match validation regex."),
          name: err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
          description: err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 200 in length."),
        },
        1: {
          key: err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 50 in length."),
          name: err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
        },
        2: { type: choices },
        3: {
          type: err("BASE_TYPE_REQUIRED", "This field is required"),
          key: err(
            "APPLICATION_ROLE_CONNECTION_METADATA_DUPLICATE_KEY",
            "Metadata keys must be unique.",
          ),
        },
        4: {
          name_localizations: {
            xx: err("ENUM_TYPE_COERCE", 'Value "xx" is not a valid enum value.'),
            fr: err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
          },
          description_localizations: {
            de: err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 200 in length."),
          },
        },
      }),
    );
    const missing = await putMetadata(emu, [{ type: 1, key: "k", name: 5 }, "x"]);
    deepStrictEqual(
      missing.body,
      invalidForm({
        0: {
          name: err("STRING_TYPE_CONVERT", "Could not interpret value as string."),
          description: err("BASE_TYPE_REQUIRED", "This field is required"),
        },
        1: err("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"),
      }),
    );
    // Nothing was stored by the refused PUTs.
    deepStrictEqual(emu.state.roleConnections.metadata(), []);
    // Five records, limits at their maximum, are fine.
    const max = Array.from({ length: 5 }, (_, i) => ({
      type: i + 1,
      key: `${i}`.padEnd(50, "_"),
      name: "n".repeat(100),
      description: "d".repeat(200),
      name_localizations: { "en-US": "n".repeat(100) },
    }));
    strictEqual((await putMetadata(emu, max)).status, 200);
  });
});

Deno.test("role connection PUT stores stringified values, GET reads them back", async () => {
  await withEmulator(small, async (emu) => {
    const { userId, auth } = await linkedUser(emu);
    const path = Routes.userApplicationRoleConnection(emu.applicationId);
    const none = await api(emu, "GET", path, { auth });
    deepStrictEqual([none.status, none.body], [200, {
      platform_name: null,
      platform_username: null,
      metadata: {},
    }]);

    const body = {
      platform_name: "Ethos",
      platform_username: "alice.eth",
      metadata: { score: 1650, verified: true, member_since: "2024-03-01T12:00:00Z", tier: "4" },
    };
    const put = await api(emu, "PUT", path, { auth, body });
    strictEqual(put.status, 200);
    const stored = {
      platform_name: "Ethos",
      platform_username: "alice.eth",
      metadata: { score: "1650", verified: "1", member_since: "2024-03-01T12:00:00Z", tier: "4" },
    };
    deepStrictEqual(put.body, stored);
    deepStrictEqual((await api(emu, "GET", path, { auth })).body, stored);
    deepStrictEqual(emu.state.roleConnections.connection(userId), stored);

    // PUT replaces: what is left out is gone.
    const second = await api(emu, "PUT", path, { auth, body: { metadata: { verified: "0" } } });
    deepStrictEqual(second.body, {
      platform_name: null,
      platform_username: null,
      metadata: { verified: "0" },
    });
    strictEqual(emu.stats.roleConnectionPuts.length, 2);
    deepStrictEqual(emu.stats.roleConnectionPutsBy(userId).map((p) => p.body), [body, {
      metadata: { verified: "0" },
    }]);

    // A linked role's requirements, checked as Discord would when the member claims it.
    const now = Date.UTC(2026, 0, 1);
    ok(emu.state.roleConnections.qualifies(userId, { verified: false }, now));
    ok(!emu.state.roleConnections.qualifies(userId, { verified: true }, now));
    ok(!emu.state.roleConnections.qualifies(userId, { score: 1000 }, now));

    strictEqual((await api(emu, "DELETE", path, { auth })).status, 204);
    deepStrictEqual(
      (await api<{ metadata: unknown }>(emu, "GET", path, { auth })).body.metadata,
      {},
    );
  });
});

Deno.test("linked role requirements compare integers, days and booleans", async () => {
  await withEmulator(small, async (emu) => {
    const { userId } = await linkedUser(emu);
    const rc = emu.state.roleConnections;
    const now = Date.UTC(2026, 0, 31);
    rc.put(userId, {
      metadata: { score: 1650, verified: 1, member_since: "2026-01-01T00:00:00Z", tier: 4 },
    });
    ok(rc.qualifies(userId, { score: 1600, verified: true, tier: 4 }, now));
    ok(!rc.qualifies(userId, { score: 1700 }, now));
    // Type 6 (DATETIME_GREATER_THAN_OR_EQUAL): the date is within the last N days.
    ok(rc.qualifies(userId, { member_since: 30 }, now));
    ok(!rc.qualifies(userId, { member_since: 29 }, now));
    ok(!rc.qualifies("1", { score: 0 }, now));
  });
});

Deno.test("role connection validation answers 50035 per field and metadata key", async () => {
  await withEmulator(small, async (emu) => {
    const { userId, auth } = await linkedUser(emu);
    const path = Routes.userApplicationRoleConnection(emu.applicationId);
    const res = await api<FormError>(emu, "PUT", path, {
      auth,
      body: {
        platform_name: "p".repeat(51),
        platform_username: "u".repeat(101),
        metadata: {
          unknown: "1",
          score: "12.5",
          verified: "yes",
          member_since: "last tuesday",
          tier: "9".repeat(101),
        },
      },
    });
    strictEqual(res.status, 400);
    deepStrictEqual(
      res.body,
      invalidForm({
        platform_name: err("BASE_TYPE_MAX_LENGTH", "Must be 50 or fewer in length."),
        platform_username: err("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."),
        metadata: {
          unknown: err(
            "APPLICATION_ROLE_CONNECTION_METADATA_UNKNOWN_KEY",
            'Metadata key "unknown" is not registered.',
          ),
          score: err("NUMBER_TYPE_COERCE", 'Value "12.5" is not int.'),
          verified: err("BASE_TYPE_BOOLEAN", "Must be either true or false."),
          member_since: err("DATE_TYPE_PARSE", "Could not parse last tuesday. Should be ISO8601."),
          tier: err("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."),
        },
      }),
    );
    const types = await api<FormError>(emu, "PUT", path, {
      auth,
      body: { platform_name: 5, metadata: { score: true, tier: null } },
    });
    deepStrictEqual(
      types.body,
      invalidForm({
        platform_name: err("STRING_TYPE_CONVERT", "Could not interpret value as string."),
        metadata: {
          score: err("STRING_TYPE_CONVERT", "Could not interpret value as string."),
          tier: err("STRING_TYPE_CONVERT", "Could not interpret value as string."),
        },
      }),
    );
    const notDict = await api<FormError>(emu, "PUT", path, { auth, body: { metadata: [1] } });
    deepStrictEqual(
      notDict.body,
      invalidForm({
        metadata: err("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"),
      }),
    );
    strictEqual(emu.state.roleConnections.connection(userId), undefined);
    strictEqual(emu.stats.roleConnectionPuts.length, 0);

    // At the limits: accepted.
    const okay = await api(emu, "PUT", path, {
      auth,
      body: {
        platform_name: "p".repeat(50),
        platform_username: "u".repeat(100),
        metadata: { score: "-3", member_since: "2024-03-01", tier: "1".repeat(100) },
      },
    });
    strictEqual(okay.status, 200);
  });
});

Deno.test("role connection routes need role_connections.write and the token's application", async () => {
  await withEmulator(small, async (emu) => {
    const { userId } = await linkedUser(emu);
    const path = Routes.userApplicationRoleConnection(emu.applicationId);
    const identifyOnly = `Bearer ${emu.state.oauth.issueTokens(userId, ["identify"]).accessToken}`;
    const missing = { message: "Missing Access", code: 50001 };
    for (const method of ["GET", "PUT"]) {
      const body = method === "PUT" ? {} : undefined;
      const res = await api(emu, method, path, { auth: identifyOnly, body });
      deepStrictEqual([res.status, res.body], [403, missing]);
    }
    const auth = `Bearer ${emu.state.oauth.issueTokens(userId).accessToken}`;
    const other = Routes.userApplicationRoleConnection("100000000000000099");
    const wrongApp = await api(emu, "PUT", other, { auth, body: {} });
    deepStrictEqual([wrongApp.status, wrongApp.body], [403, missing]);
    // The bot token cannot act for a user.
    strictEqual((await api(emu, "GET", path)).status, 401);
    strictEqual(emu.stats.roleConnectionPuts.length, 0);
  });
});

Deno.test("role connection PUTs are limited per user: 429 after 5 in 5 s", async () => {
  let now = Date.UTC(2026, 0, 1);
  await withEmulator({ ...small, clock: { now: () => now } }, async (emu) => {
    const alice = await linkedUser(emu, 0);
    const bob = await linkedUser(emu, 1);
    const path = Routes.userApplicationRoleConnection(emu.applicationId);
    const body = { metadata: { score: 1 } };
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(emu, "PUT", path, { auth: alice.auth, body });
      strictEqual(res.status, 200);
      strictEqual(res.headers.get("x-ratelimit-limit"), "5");
      remaining.push(res.headers.get("x-ratelimit-remaining")!);
    }
    deepStrictEqual(remaining, ["4", "3", "2", "1", "0"]);
    now += 1_500;
    const limited = await api<{ message: string; retry_after: number; global: boolean }>(
      emu,
      "PUT",
      path,
      { auth: alice.auth, body },
    );
    strictEqual(limited.status, 429);
    deepStrictEqual(limited.body, {
      message: "You are being rate limited.",
      retry_after: 3.5,
      global: false,
    });
    strictEqual(limited.headers.get("x-ratelimit-scope"), "user");
    strictEqual(limited.headers.get("retry-after"), "4");
    strictEqual(limited.headers.get("x-ratelimit-reset-after"), "3.500");

    // A refreshed token is the same user: still limited. Another user is not.
    const fresh = `Bearer ${emu.state.oauth.issueTokens(alice.userId).accessToken}`;
    strictEqual((await api(emu, "PUT", path, { auth: fresh, body })).status, 429);
    strictEqual((await api(emu, "PUT", path, { auth: bob.auth, body })).status, 200);
    // GET has its own bucket.
    strictEqual((await api(emu, "GET", path, { auth: alice.auth })).status, 200);

    now += 3_500;
    strictEqual((await api(emu, "PUT", path, { auth: alice.auth, body })).status, 200);
    strictEqual(emu.stats.roleConnectionPutsBy(alice.userId).length, 6);
    strictEqual(
      emu.stats.rateLimitedRoutes["user PUT /users/@me/applications/:app/role-connection"],
      2,
    );

    // Configurable like the other buckets.
    emu.setLimits({ roleConnection: { limit: 1, windowMs: 60_000 } });
    strictEqual((await api(emu, "PUT", path, { auth: bob.auth, body })).status, 200);
    strictEqual((await api(emu, "PUT", path, { auth: bob.auth, body })).status, 429);
  });
});
