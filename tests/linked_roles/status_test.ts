/** lib/linked_roles/status.ts: what the operator sees of linked roles. */
import assert from "node:assert/strict";
import { linkedRolesStatus } from "../../lib/linked_roles/status.ts";
import { recordsFingerprint } from "../../lib/linked_roles/metadata.ts";
import { saveLinked } from "../../lib/linked_roles/store.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { LINKED_ENV } from "./_fake_oauth.ts";
import { linkedRecord } from "./_linked.ts";

const REGISTERED: Deno.KvKey = ["linked_roles", "registered"];

Deno.test("linked roles status: off without a client secret, nothing registered, nobody linked", () =>
  withKv(async (kv) => {
    assert.deepEqual(await linkedRolesStatus(memoryDeps(kv)), {
      enabled: false,
      verificationUrl: null,
      redirectUri: null,
      registered: null,
      linkedUsers: 0,
    });
    // SELF_URL alone gives the URLs to set, but the flow stays off.
    const urls = await linkedRolesStatus(
      memoryDeps(kv, { env: { SELF_URL: "https://b.example" } }),
    );
    assert.equal(urls.enabled, false);
    assert.equal(urls.verificationUrl, "https://b.example/linked-role");
    assert.equal(urls.redirectUri, "https://b.example/linked-role/callback");
  }));

Deno.test("linked roles status: on, with the registered records' age and whether they are current", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: LINKED_ENV });
    await kv.set(REGISTERED, { fingerprint: await recordsFingerprint(), at: 1234 });
    await saveLinked(kv, "300000000000000001", linkedRecord(0));
    await saveLinked(kv, "300000000000000002", linkedRecord(0));
    assert.deepEqual(await linkedRolesStatus(deps), {
      enabled: true,
      verificationUrl: "https://bot.example/linked-role",
      redirectUri: "https://bot.example/linked-role/callback",
      registered: { at: 1234, current: true },
      linkedUsers: 2,
    });
    await kv.set(REGISTERED, { fingerprint: "older records", at: 99 });
    assert.deepEqual((await linkedRolesStatus(deps)).registered, { at: 99, current: false });
  }));
