import { hkdfSync } from "node:crypto";
import assert from "node:assert/strict";
import { hkdfSha256, loadSigningKeys, PURPOSES } from "../lib/signing_keys.ts";
import { createHmac } from "../lib/hmac.ts";
import { createTestApp } from "./_harness.ts";
import { ConfigError } from "../lib/config.ts";
import { testConfig } from "./_config.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const SECRET = "operator-signing-secret-0123456789";

Deno.test("signing keys: HKDF-SHA256 matches RFC 5869 test case 3 and node:crypto", async () => {
  // RFC 5869 A.3: IKM 22 bytes of 0x0b, salt and info empty.
  const okm = await hkdfSha256(new Uint8Array(22).fill(0x0b), "", 42);
  assert.deepStrictEqual(
    hex(okm),
    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
  );
  for (const purpose of PURPOSES) {
    const ours = await hkdfSha256(new TextEncoder().encode(SECRET), purpose);
    const node = new Uint8Array(hkdfSync("sha256", SECRET, new Uint8Array(0), purpose, 32));
    assert.deepStrictEqual(hex(ours), hex(node), purpose);
  }
});

Deno.test("signing keys: one key per purpose, derivable by an operator's tool", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const keys = await loadSigningKeys({ signingSecret: SECRET }, kv);
    assert.deepStrictEqual(keys.source, "configured");
    const byPurpose = {
      "custom-id": keys.customId,
      "status-link": keys.statusLink,
      "session": keys.session,
      "export": keys.export,
    };
    const sigs = new Set<string>();
    for (const [purpose, hmac] of Object.entries(byPurpose)) {
      // What an operator computes with their own HKDF + HMAC is what the bot accepts.
      const tool = createHmac(
        new Uint8Array(hkdfSync("sha256", SECRET, new Uint8Array(0), purpose, 32)),
      );
      const sig = await tool.sign("data");
      assert.ok(await hmac.verify("data", sig), purpose);
      sigs.add(sig);
    }
    assert.deepStrictEqual(sigs.size, 4, "every purpose signs differently");
    assert.ok(!(await keys.session.verify("data", await keys.statusLink.sign("data"))));
    assert.deepStrictEqual(
      await kv.get(["secret", "signing"]).then((e) => e.value),
      null,
      "no KV secret",
    );
  } finally {
    kv.close();
  }
});

Deno.test("signing keys: the previous secret verifies during a rotation, never signs", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const before = await loadSigningKeys({ signingSecret: SECRET }, kv);
    const during = await loadSigningKeys({
      signingSecret: "the-new-signing-secret-9876543210",
      signingSecretPrevious: SECRET,
    }, kv);
    const after = await loadSigningKeys({ signingSecret: "the-new-signing-secret-9876543210" }, kv);
    const oldSig = await before.customId.sign("x", 12);
    assert.ok(await during.customId.verify("x", oldSig, 12));
    assert.deepStrictEqual(await during.customId.sign("x", 12), await after.customId.sign("x", 12));
    assert.notDeepStrictEqual(await during.customId.sign("x", 12), oldSig);
    assert.ok(!(await after.customId.verify("x", oldSig, 12)));
  } finally {
    kv.close();
  }
});

Deno.test("signing keys: unset secret -> a random one in KV, shared, not from the bot token", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const [a, b] = await Promise.all([loadSigningKeys({}, kv), loadSigningKeys({}, kv)]);
    assert.deepStrictEqual(a.source, "derived");
    assert.deepStrictEqual(await a.export.sign("x"), await b.export.sign("x"), "isolates agree");
    const stored = (await kv.get<string>(["secret", "signing"])).value!;
    assert.deepStrictEqual(stored.length, 64);
    // Whoever holds the bot token cannot derive the keys.
    const token = testConfig().discord.token;
    for (const guess of [token, `derived:${token}`]) {
      const forged = createHmac(await hkdfSha256(new TextEncoder().encode(guess), "export"));
      assert.ok(!(await a.export.verify("x", await forged.sign("x"))), guess);
    }
    const other = await Deno.openKv(":memory:");
    const c = await loadSigningKeys({}, other);
    other.close();
    assert.notDeepStrictEqual(await c.export.sign("x"), await a.export.sign("x"), "per deployment");
  } finally {
    kv.close();
  }
});

Deno.test("signing keys: unset secret starts with one warning and /health says derived", async () => {
  const t = await createTestApp();
  try {
    const warnings = t.log.lines.filter((l) =>
      l.level === "warn" && /SIGNING_SECRET/.test(String(l.msg))
    );
    assert.deepStrictEqual(warnings.length, 1);
    const health = await (await t.handle(new Request("http://localhost/health"))).json();
    assert.deepStrictEqual(health.signingSecret, "derived");
  } finally {
    await t.close();
  }
  const configured = await createTestApp({ env: { SIGNING_SECRET: SECRET } });
  try {
    assert.deepStrictEqual(
      configured.log.lines.filter((l) => /SIGNING_SECRET/.test(String(l.msg))).length,
      0,
    );
    const health = await (await configured.handle(new Request("http://localhost/health"))).json();
    assert.deepStrictEqual(health.signingSecret, "configured");
  } finally {
    await configured.close();
  }
});

Deno.test("signing keys: SIGNING_SECRET_PREVIOUS alone is a config error", () => {
  assert.throws(
    () => testConfig({ SIGNING_SECRET_PREVIOUS: SECRET }),
    (e) => e instanceof ConfigError && e.message.includes("SIGNING_SECRET_PREVIOUS"),
  );
});
