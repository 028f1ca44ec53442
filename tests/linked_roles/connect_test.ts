/**
 * lib/linked_roles/connect.ts: the connect flow's two steps. The state is in a cookie and in KV
 * and good once; every failure is an outcome that stores no token; the metadata is pushed with
 * the user's own token before anything is stored; connecting again revokes the grant before.
 */
import assert from "node:assert/strict";
import {
  beginConnect,
  CLEAR_STATE_COOKIE,
  completeConnect,
  linkedRolesEnabled,
  STATE_COOKIE,
} from "../../lib/linked_roles/connect.ts";
import { PLATFORM_NAME } from "../../lib/linked_roles/oauth.ts";
import { countLinked, getLinked } from "../../lib/linked_roles/store.ts";
import { open, type TokenKeys } from "../../lib/linked_roles/token_box.ts";
import { loadSigningKeys } from "../../lib/signing_keys.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { ethosUser, FakeOAuth, json, linkedDeps } from "./_fake_oauth.ts";

const USER = "300000000000000001";

async function setup(kv: Deno.Kv, env: Record<string, string> = {}) {
  const fake = new FakeOAuth();
  const deps = linkedDeps(kv, fake, env);
  const keys: TokenKeys = (await loadSigningKeys(deps.config, kv)).tokenBox;
  /** A started flow: its state, as the callback receives it with the cookie. */
  const started = async () => {
    const { location } = await beginConnect(deps);
    const state = new URL(location).searchParams.get("state")!;
    return { state, cookieStates: [state] };
  };
  return { fake, deps, keys, started };
}

Deno.test("linkedRolesEnabled: needs both the client secret and SELF_URL", () =>
  withKv((kv) => {
    assert.equal(linkedRolesEnabled(memoryDeps(kv)), false);
    assert.equal(
      linkedRolesEnabled(memoryDeps(kv, { env: { SELF_URL: "https://b.example" } })),
      false,
    );
    assert.equal(linkedRolesEnabled(linkedDeps(kv, new FakeOAuth())), true);
    return Promise.resolve();
  }));

Deno.test("beginConnect: the authorize URL carries a fresh state; the cookie holds it, locked down", () =>
  withKv(async (kv) => {
    const { deps } = await setup(kv);
    const { location, cookie } = await beginConnect(deps);
    const state = new URL(location).searchParams.get("state")!;
    assert.match(state, /^[A-Za-z0-9_-]{32}$/);
    const parts = cookie.split("; ");
    assert.equal(parts[0], `${STATE_COOKIE}=${state}`);
    for (const p of ["Max-Age=600", "Path=/linked-role", "HttpOnly", "Secure", "SameSite=Lax"]) {
      assert.ok(parts.includes(p), `${p} in ${cookie}`);
    }
    const plain = await setup(kv, { SELF_URL: "http://localhost:8000" });
    assert.ok(!(await beginConnect(plain.deps)).cookie.includes("Secure"), "no Secure over http");
    assert.match(CLEAR_STATE_COOKIE, new RegExp(`^${STATE_COOKIE}=; Max-Age=0;`));
  }));

Deno.test("completeConnect: a state missing, not the cookie's, or used is refused first", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    const s = await started();
    const code = fake.code(USER);
    assert.deepEqual(await completeConnect(deps, keys, { code, cookieStates: [s.state] }), {
      kind: "bad_state",
      reason: "missing",
    });
    assert.deepEqual(
      await completeConnect(deps, keys, { code, state: s.state, cookieStates: [] }),
      {
        kind: "bad_state",
        reason: "missing",
      },
    );
    const other = await started();
    assert.deepEqual(
      await completeConnect(deps, keys, { code, state: s.state, cookieStates: other.cookieStates }),
      { kind: "bad_state", reason: "mismatch" },
    );
    // A browser may send the cookie twice (two paths): any of them may match.
    const both = [other.state, s.state];
    const first = await completeConnect(deps, keys, { code, state: s.state, cookieStates: both });
    assert.equal(first.kind, "connected");
    assert.deepEqual(
      await completeConnect(deps, keys, {
        code: fake.code(USER),
        state: s.state,
        cookieStates: both,
      }),
      { kind: "bad_state", reason: "used_or_expired" },
    );
  }));

Deno.test("completeConnect: cancelled on Discord, or no code, uses the state and stores nothing", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    const a = await started();
    assert.deepEqual(
      await completeConnect(deps, keys, { ...a, error: "access_denied", code: fake.code(USER) }),
      { kind: "denied" },
    );
    assert.deepEqual(await completeConnect(deps, keys, { ...a, code: fake.code(USER) }), {
      kind: "bad_state",
      reason: "used_or_expired",
    });
    assert.deepEqual(await completeConnect(deps, keys, await started()), { kind: "bad_code" });
    assert.deepEqual(
      await completeConnect(deps, keys, { ...await started(), code: "made-up" }),
      { kind: "bad_code" },
    );
    assert.equal(fake.calls.filter((c) => c.route.includes("role-connection")).length, 0);
    assert.equal(await countLinked(kv), 0);
  }));

Deno.test("completeConnect: a grant without role_connections.write is refused before any call", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    const code = fake.code(USER, ["identify"]);
    assert.deepEqual(await completeConnect(deps, keys, { ...await started(), code }), {
      kind: "missing_scope",
    });
    assert.equal(fake.callsTo("GET discord:/users/@me").length, 0);
    assert.equal(await getLinked(kv, USER), null);
  }));

Deno.test("completeConnect: Discord or Ethos failing is 'upstream', logged, nothing stored", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    fake.fail("POST discord:/oauth2/token", json(502, {}));
    assert.deepEqual(
      await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) }),
      { kind: "upstream", service: "Discord" },
    );
    fake.fail(`GET ethos:/user/by/discord/${USER}`, json(403, { error: "forbidden" }));
    assert.deepEqual(
      await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) }),
      { kind: "upstream", service: "Ethos" },
    );
    fake.fail(
      "PUT discord:/users/@me/applications/:app/role-connection",
      json(500, { message: "oops" }),
    );
    assert.deepEqual(
      await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) }),
      { kind: "upstream", service: "Discord" },
    );
    assert.deepEqual(
      deps.log.lines.filter((l) => l.level === "warn").map((l) => l.msg),
      [
        "linked roles: Discord failed during connect",
        "linked roles: Ethos unavailable during connect",
        "linked roles: pushing the metadata failed during connect",
      ],
    );
    assert.equal(await getLinked(kv, USER), null);
    assert.equal(fake.connections.size, 0);
  }));

Deno.test("completeConnect: connected; the user's metadata pushed with their token, tokens sealed", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    fake.ethos.set(USER, ethosUser(USER, 1850, { displayName: "Ann", validatorNftCount: 1 }));
    const out = await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) });
    assert.equal(out.kind, "connected");
    if (out.kind !== "connected") return;
    const metadata = { score: "1850", level: "5", validator: "1", human: "0" };
    assert.deepEqual(out.metadata, metadata);
    assert.equal(out.user.id, USER);
    assert.equal(out.profile?.displayName, "Ann");
    const push = fake.callsTo("PUT discord:/users/@me/applications/:app/role-connection")[0];
    assert.deepEqual(push.body, {
      platform_name: PLATFORM_NAME,
      platform_username: "Ann",
      metadata,
    });
    const rec = (await getLinked(kv, USER))!.value;
    assert.equal(await open(keys, USER, rec.access), push.bearer, "the token that pushed");
    assert.ok(!rec.access.includes(push.bearer!) && !rec.refresh.includes("refresh-"));
    assert.match((await open(keys, USER, rec.refresh))!, /^refresh-/);
    assert.deepEqual(
      { ...rec, access: "", refresh: "" },
      {
        access: "",
        refresh: "",
        expiresAt: deps.clock.now() + 604_800_000,
        linkedAt: deps.clock.now(),
        pushedAt: deps.clock.now(),
        metadata,
        platformUsername: "Ann",
      },
    );
    assert.equal(await countLinked(kv), 1);
  }));

Deno.test("completeConnect: no Ethos profile is score 0, pushed without a username", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    const out = await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) });
    assert.deepEqual(out.kind === "connected" && [out.profile, out.metadata], [
      null,
      { score: "0", level: "0", validator: "0", human: "0" },
    ]);
    assert.deepEqual(fake.connections.get(USER), {
      platform_name: "Ethos",
      platform_username: null,
      metadata: { score: "0", level: "0", validator: "0", human: "0" },
    });
  }));

Deno.test("completeConnect: connecting again replaces the grant and revokes the one before", () =>
  withKv(async (kv) => {
    const { deps, keys, fake, started } = await setup(kv);
    await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) });
    const before = await open(keys, USER, (await getLinked(kv, USER))!.value.refresh);
    await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) });
    assert.deepEqual(fake.revoked, [before]);
    const now = await open(keys, USER, (await getLinked(kv, USER))!.value.refresh);
    assert.notEqual(now, before);
    assert.equal(await countLinked(kv), 1, "still one linked user");
    // A revoke Discord refuses is logged; the new connection stands.
    fake.fail("POST discord:/oauth2/token/revoke", new Response("", { status: 500 }));
    const again = await completeConnect(deps, keys, { ...await started(), code: fake.code(USER) });
    assert.equal(again.kind, "connected");
    assert.ok(
      deps.log.lines.some((l) => l.msg === "linked roles: revoking the grant before failed"),
    );
  }));
