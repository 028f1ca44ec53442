import assert from "node:assert/strict";
import { createTestApp } from "../_harness.ts";
import { COOKIE, LINK_TTL_MS } from "../../lib/http/status_access.ts";

const TOKEN = "status-test-token-0123456789";

async function link(t: Awaited<ReturnType<typeof createTestApp>>): Promise<string> {
  const res = await t.handle(
    new Request("https://bot.example/status-link", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    }),
  );
  assert.deepStrictEqual(res.status, 200);
  return (await res.json()).url;
}

Deno.test("status link -> session cookie -> clean /status; nothing works without a session", async () => {
  const t = await createTestApp({
    env: { SYNC_AUTH_TOKEN: TOKEN, SELF_URL: "https://bot.example" },
  });
  try {
    // The link route needs the operator token.
    const denied = await t.handle(
      new Request("https://bot.example/status-link", { method: "POST" }),
    );
    assert.deepStrictEqual(denied.status, 401);
    await denied.body?.cancel();

    const url = await link(t);
    assert.match(url, /^https:\/\/bot\.example\/status\/login\?t=[0-9a-z]+\.[\w-]+$/);

    const noSession = await t.handle(new Request("https://bot.example/status"));
    assert.deepStrictEqual(noSession.status, 401);
    assert.match(await noSession.text(), /status-link/);
    const noJson = await t.handle(new Request("https://bot.example/status.json"));
    assert.deepStrictEqual(noJson.status, 401);
    await noJson.body?.cancel();

    const login = await t.handle(new Request(url));
    assert.deepStrictEqual(login.status, 200);
    const cookie = login.headers.get("set-cookie")!;
    const [pair, ...attributes] = cookie.split("; ");
    assert.match(pair, new RegExp(`^${COOKIE}=[0-9a-z]+\\.[\\w-]+$`));
    // Every attribute, whatever their order: one hour, the whole site, no script, no other site.
    assert.deepStrictEqual(attributes.sort(), [
      "HttpOnly",
      "Max-Age=3600",
      "Path=/",
      "SameSite=Strict",
      "Secure",
    ]);
    assert.match(await login.text(), /content="0;url=\/status"/);
    assert.deepStrictEqual(login.headers.get("referrer-policy"), "no-referrer");

    const session = cookie.split(";")[0];
    const page = await t.handle(
      new Request("https://bot.example/status", { headers: { cookie: session } }),
    );
    assert.deepStrictEqual(page.status, 200);
    const html = await page.text();
    for (
      const h of [
        "Role sync",
        "Discord REST health",
        "Command manifest",
        "Backups",
        "Recent alerts",
      ]
    ) {
      assert.ok(html.includes(`>${h}</h2>`), html);
    }
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'nonce-[0-9a-f]+'/);
    const data = await (await t.handle(
      new Request("https://bot.example/status.json", { headers: { cookie: session } }),
    )).json();
    assert.ok(data.sync.ok && data.rest.ok && data.alerts.ok, JSON.stringify(data));

    // A link token is not a session, a session token is not a link, tampering fails.
    const linkToken = new URL(url).searchParams.get("t")!;
    const asSession = await t.handle(
      new Request("https://bot.example/status", { headers: { cookie: `${COOKIE}=${linkToken}` } }),
    );
    assert.deepStrictEqual(asSession.status, 401);
    await asSession.body?.cancel();
    const sessionToken = session.split("=")[1];
    const asLink = await t.handle(
      new Request(`https://bot.example/status/login?t=${sessionToken}`),
    );
    assert.deepStrictEqual(asLink.status, 401);
    await asLink.body?.cancel();
    const tampered = await t.handle(new Request(url.replace(/.$/, (c) => (c === "A" ? "B" : "A"))));
    assert.deepStrictEqual(tampered.status, 401);
    await tampered.body?.cancel();

    // Both expire with the link, after an hour.
    t.clock.advance(LINK_TTL_MS + 1_000);
    const late = await t.handle(
      new Request("https://bot.example/status", { headers: { cookie: session } }),
    );
    assert.deepStrictEqual(late.status, 401);
    await late.body?.cancel();
    const lateLogin = await t.handle(new Request(url));
    assert.deepStrictEqual(lateLogin.status, 401);
    await lateLogin.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("the session cookie is not Secure over plain HTTP (local runs)", async () => {
  const t = await createTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const res = await t.handle(
      new Request("http://localhost:8000/status-link", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    const { url } = await res.json();
    assert.ok(url.startsWith("http://localhost:8000/status/login?t="), url);
    const login = await t.handle(new Request(url));
    const cookie = login.headers.get("set-cookie")!;
    assert.ok(!cookie.includes("Secure"), cookie);
    await login.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("a valid status_session counts wherever it stands among cookies of that name", async () => {
  const t = await createTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const url = await link(t);
    const login = await t.handle(new Request(url));
    const session = login.headers.get("set-cookie")!.split(";")[0];
    await login.body?.cancel();
    const value = session.slice(COOKIE.length + 1);
    for (
      const cookie of [
        `${COOKIE}=; ${session}`,
        `${COOKIE}=garbage; theme=dark; ${session}`,
        `${session}; ${COOKIE}=`,
        `other=1;${COOKIE}="${value}"`,
      ]
    ) {
      const res = await t.handle(
        new Request("http://localhost/status.json", { headers: { cookie } }),
      );
      assert.deepStrictEqual(res.status, 200, cookie);
      await res.body?.cancel();
    }
    for (const cookie of [`${COOKIE}=`, `${COOKIE}x=${value}`, `x${COOKIE}=${value}`, ""]) {
      const res = await t.handle(
        new Request("http://localhost/status.json", { headers: { cookie } }),
      );
      assert.deepStrictEqual(res.status, 401, cookie);
      await res.body?.cancel();
    }
  } finally {
    await t.close();
  }
});
