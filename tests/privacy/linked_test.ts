/**
 * lib/privacy/linked.ts: a member's linked-role connection as /privacy shows it, and its deletion
 * (a disconnect: Discord's metadata cleared, the grant revoked, the record gone).
 */
import assert from "node:assert/strict";
import { linkedRoleSource } from "../../lib/privacy/linked.ts";
import { keys } from "../../lib/kv/keys.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { FakeOAuth, linkedDeps } from "../linked_roles/_fake_oauth.ts";
import { assertDisconnected, link, tokenKeys } from "../linked_roles/_linked.ts";

const U = "300000000000000001";

const aesKey = () =>
  crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);

Deno.test("linkedRoleSource: nothing when not connected; else when and what Discord was told", () =>
  withKv(async (kv) => {
    const fake = new FakeOAuth();
    const deps = linkedDeps(kv, fake);
    const keys = await tokenKeys(deps);
    const source = linkedRoleSource(keys);
    assert.deepEqual(await source.view(deps, undefined, U), {
      name: "Ethos linked role connection",
      items: [],
      retention: "until you delete it here or remove the app from Discord's Authorized Apps",
    });
    await link(deps, keys, fake, U, {
      metadata: { score: "1650", level: "4", validator: "1", human: "0" },
    });
    const at = new Date(deps.clock.now()).toISOString();
    assert.deepEqual((await source.view(deps, undefined, U)).items, [
      `connected ${at}: your Discord OAuth tokens (encrypted), so the bot can keep your linked-role data current`,
      `last sent to Discord ${at}: score 1650, level 4, validator 1, human 0`,
    ]);
    assert.equal(fake.calls.length, 0, "viewing calls nobody");
  }));

Deno.test("linkedRoleSource: delete disconnects with the member's own grant", () =>
  withKv(async (kv) => {
    const fake = new FakeOAuth();
    const deps = linkedDeps(kv, fake);
    const keys = await tokenKeys(deps);
    const source = linkedRoleSource(keys);
    assert.equal(await source.delete!(deps, undefined, U), 0);
    assert.equal(fake.calls.length, 0);
    const g = await link(deps, keys, fake, U);
    assert.equal(await source.delete!(deps, undefined, U), 1);
    await assertDisconnected(kv, fake, U, g);
  }));

Deno.test("linkedRoleSource: deleting for a member never linked touches nothing, keys included", () =>
  withKv(async (kv) => {
    // The app's keys are used as given: without SIGNING_SECRET, loading them again would create
    // the KV-kept secret.
    const deps = memoryDeps(kv);
    const source = linkedRoleSource({ current: await aesKey() });
    assert.equal(await source.delete!(deps, undefined, U), 0);
    assert.equal((await kv.get(keys.generatedSigningSecret())).versionstamp, null);
    assert.equal((await kv.list({ prefix: [] }).next()).done, true, "KV untouched");
  }));
