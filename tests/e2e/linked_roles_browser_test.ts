/**
 * The Ethos linked-roles connect flow in a real browser: headless Chromium (Debian's package)
 * driven by playwright-core opens the bot's verification URL, follows the redirect to the
 * emulator's Discord authorize page (auto-approved, or denied), and lands on the bot's callback
 * page. What the page shows must match what the emulator's Discord now holds; the state cookie is
 * HttpOnly, SameSite=Lax and scoped to /linked-role, and is cleared by the callback; a replayed,
 * denied or cookie-less callback is a 400 page that stores and pushes nothing. Every page loads
 * with no console error and no request to any host but the bot and the emulator.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { hasChromium, launchChromium } from "./_chromium.ts";
import assert from "node:assert/strict";
import { GUILD, startBot, type TestBot } from "./sync_helpers.ts";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { linkedKeys } from "../../lib/linked_roles/store.ts";
import { STATE_COOKIE } from "../../lib/linked_roles/connect.ts";
import { LEVELS } from "../../lib/ethos/levels.ts";

const installed = hasChromium("linked roles browser test");

const SECRET = "emulator-client-secret-0123";
const SCREENSHOT = "docs/linked-role-page.png";

interface Fixture {
  emu: Emulator;
  bot: TestBot;
  browser: Browser;
  callbackUrl: string;
}

/** The emulator (strict about the redirect URI), the bot served over HTTP, and Chromium. */
async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const emu = await startEmulator({
    uniformRate: 300,
    guilds: [{ members: 30 }],
    clientSecret: SECRET,
  });
  const bot = await startBot(emu, {
    env: { DISCORD_CLIENT_SECRET: SECRET, DISCORD_OAUTH_AUTHORIZE_URL: emu.oauthAuthorizeUrl },
  });
  let browser: Browser | null = null;
  try {
    const reg = await bot.request("POST", "/linked-roles/register", {});
    assert.deepStrictEqual(reg.status, 200);
    assert.deepStrictEqual((await reg.json()).status, "registered");
    const callbackUrl = `${bot.url}/linked-role/callback`;
    // Only the bot's callback is registered: the emulator refuses any other redirect_uri.
    emu.state.oauth.redirectUris.add(callbackUrl);
    browser = await launchChromium();
    await fn({ emu, bot, browser, callbackUrl });
  } finally {
    await browser?.close();
    await bot.close();
    await emu.close();
  }
}

/** A seeded guild member (not a bot) with an Ethos score. */
function scoredMember(emu: Emulator): string {
  const members = [...emu.state.guild(GUILD).members.values()].filter((m) => !m.bot);
  const scored = members.find((m) => emu.state.score(m.id) !== undefined);
  assert.ok(scored, "the seed has a member with an Ethos score");
  return scored.id;
}

/**
 * Records every request's origin and every console error or uncaught page error, so a test can
 * check the pages load cleanly and talk to nobody but the bot and the emulator.
 */
function watch(page: Page, allowed: string[]) {
  const origins = new Set<string>();
  const errors: { text: string; url: string }[] = [];
  const urls: string[] = [];
  /** "url status" of every main-frame document the page navigated to. */
  const documents = new Set<string>();
  page.on("request", (r) => {
    urls.push(r.url());
    origins.add(new URL(r.url()).origin);
  });
  page.on("response", (r) => {
    const req = r.request();
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      documents.add(`${r.url()} ${r.status()}`);
    }
  });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push({ text: m.text(), url: m.location().url });
  });
  page.on("pageerror", (e) => errors.push({ text: `pageerror: ${e.message}`, url: page.url() }));
  const loadFailed = /^Failed to load resource: the server responded with a status of (\d+)/;
  return {
    urls,
    check() {
      const foreign = [...origins].filter((o) => !allowed.includes(o));
      assert.deepStrictEqual(
        foreign,
        [],
        `requests only to the bot and the emulator: ${urls.join(", ")}`,
      );
      const unexpected = errors.filter(({ text, url }) => {
        const status = loadFailed.exec(text)?.[1];
        // Chromium reports every 4xx document this way: the test asserts those statuses itself.
        if (status && documents.has(`${url} ${status}`)) return false;
        return true;
      });
      assert.deepStrictEqual(unexpected, [], "no console errors");
    },
  };
}

const text = async (page: Page, selector: string) =>
  ((await page.textContent(selector)) ?? "").trim();

async function stateCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === STATE_COOKIE);
}

async function nothingStored(f: Fixture, userId: string) {
  assert.deepStrictEqual(
    f.emu.state.roleConnections.connection(userId),
    undefined,
    "no role connection",
  );
  assert.deepStrictEqual(
    f.emu.stats.roleConnectionPutsBy(userId).length,
    0,
    "no role connection PUT",
  );
  assert.deepStrictEqual(
    (await f.bot.kv.get(linkedKeys.user(userId))).value,
    null,
    "no linked record",
  );
}

Deno.test({
  name:
    "linked roles in Chromium: connect via Discord's authorize page; the page shows what Discord holds; a replay is refused",
  ignore: !installed,
  sanitizeResources: false, // the browser's pipes outlive the test's bookkeeping
  sanitizeOps: false,
  async fn() {
    await withFixture(async (f) => {
      const { emu, bot, browser, callbackUrl } = f;
      const userId = scoredMember(emu);
      emu.state.oauth.approveAs(userId);
      const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
      const page = await context.newPage();
      const watcher = watch(page, [bot.url, emu.url]);

      // Pause the callback request (Chromium's Fetch domain: Playwright's own routes skip the
      // hops of a redirect) until the cookie jar has been read: the state cookie as the browser
      // keeps it between /linked-role and the callback, with no race against its clearing.
      let cookieAtCallback: Awaited<ReturnType<typeof stateCookie>>;
      const cdp = await context.newCDPSession(page);
      cdp.on("Fetch.requestPaused", async (e) => {
        try {
          cookieAtCallback = await stateCookie(context);
        } finally {
          await cdp.send("Fetch.continueRequest", { requestId: e.requestId });
        }
      });
      await cdp.send("Fetch.enable", {
        patterns: [{ urlPattern: `${callbackUrl}?*`, requestStage: "Request" }],
      });

      const res = await page.goto(`${bot.url}/linked-role`);
      assert.ok(res, "a response");
      assert.deepStrictEqual(res.status(), 200);
      await cdp.send("Fetch.disable");
      const landed = new URL(page.url());
      assert.deepStrictEqual(`${landed.origin}${landed.pathname}`, callbackUrl);

      // The redirect chain the browser followed: /linked-role 302 -> authorize 302 -> callback.
      const authReq = res.request().redirectedFrom();
      assert.ok(authReq, "the callback was reached by a redirect");
      const startReq = authReq.redirectedFrom();
      assert.ok(startReq, "the authorize page was reached by a redirect");
      assert.deepStrictEqual(startReq.url(), `${bot.url}/linked-role`);
      assert.deepStrictEqual((await startReq.response())?.status(), 302);
      assert.deepStrictEqual(startReq.redirectedFrom(), null);
      const auth = new URL(authReq.url());
      assert.deepStrictEqual(`${auth.origin}${auth.pathname}`, emu.oauthAuthorizeUrl);
      assert.deepStrictEqual((await authReq.response())?.status(), 302);
      assert.deepStrictEqual(auth.searchParams.get("response_type"), "code");
      assert.deepStrictEqual(auth.searchParams.get("scope"), "identify role_connections.write");
      assert.deepStrictEqual(auth.searchParams.get("redirect_uri"), callbackUrl);
      assert.deepStrictEqual(auth.searchParams.get("client_id"), emu.applicationId);
      const state = auth.searchParams.get("state");
      assert.ok(state && /^[A-Za-z0-9_-]{16,64}$/.test(state), `a state: ${state}`);
      // The emulator saw the same request and approved it; the browser came back with its state.
      assert.deepStrictEqual(emu.state.oauth.authorizeLog.map((a) => a.outcome), ["code"]);
      assert.deepStrictEqual(emu.state.oauth.authorizeLog[0].query.state, state);
      assert.deepStrictEqual(landed.searchParams.get("state"), state);
      assert.ok(landed.searchParams.get("code"), "a code");

      // The state cookie while the flow ran: HttpOnly, Lax, /linked-role, holding the state.
      assert.ok(cookieAtCallback, "the state cookie was set by /linked-role");
      assert.deepStrictEqual(cookieAtCallback.value, state);
      assert.deepStrictEqual(cookieAtCallback.httpOnly, true);
      assert.deepStrictEqual(cookieAtCallback.sameSite, "Lax");
      assert.deepStrictEqual(cookieAtCallback.path, "/linked-role");
      assert.deepStrictEqual(cookieAtCallback.secure, false); // plain http on loopback
      assert.deepStrictEqual(
        (await res.request().allHeaders())["cookie"],
        `${STATE_COOKIE}=${state}`,
      );
      // ... and the callback cleared it.
      assert.deepStrictEqual(await stateCookie(context), undefined);

      // What the page shows is what Discord now holds for the user.
      const conn = emu.state.roleConnections.connection(userId);
      assert.ok(conn, "a role connection for the user");
      assert.deepStrictEqual(conn.platform_name, "Ethos");
      const m = conn.metadata;
      const score = emu.state.score(userId)!;
      assert.deepStrictEqual(m.score, String(score));
      assert.deepStrictEqual(await page.title(), "Ethos linked to Discord");
      assert.deepStrictEqual(await text(page, "h1"), "Ethos is linked to Discord");
      assert.ok(await page.isVisible("h1"));
      assert.deepStrictEqual(await text(page, "[data-key=score]"), String(score));
      const levelName = LEVELS[Number(m.level)]?.[0];
      assert.ok(levelName, `a known level: ${m.level}`);
      assert.deepStrictEqual(await text(page, "[data-key=level]"), `${m.level} (${levelName})`);
      assert.deepStrictEqual(
        await text(page, "[data-key=validator]"),
        m.validator === "1" ? "yes" : "no",
      );
      assert.deepStrictEqual(await text(page, "[data-key=human]"), m.human === "1" ? "yes" : "no");
      const body = await page.innerText("body");
      assert.match(body, /go back to Discord/);
      assert.ok(await page.isVisible("text=go back to Discord"));
      assert.deepStrictEqual(emu.stats.roleConnectionPutsBy(userId).length, 1);
      assert.ok((await bot.kv.get(linkedKeys.user(userId))).value !== null, "the link is stored");

      if (Deno.env.get("WRITE_SCREENSHOTS") === "1") {
        const shot = await page.screenshot({ fullPage: true });
        assert.ok(shot.length > 5_000, "a real screenshot");
        await Deno.writeFile(SCREENSHOT, shot);
      }

      // Replay: the same callback URL again is the "expired" page, and nothing more is pushed.
      const replay = await page.goto(page.url());
      assert.deepStrictEqual(replay?.status(), 400);
      assert.deepStrictEqual(await text(page, "h1"), "This link has expired");
      assert.ok(await page.isVisible("a.button[href='/linked-role']"), "a way to start again");
      assert.deepStrictEqual(emu.stats.roleConnectionPuts.map((p) => p.userId), [userId]);
      assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 1);
      // Going back in history lands on the same refused page, not on the success again.
      await page.goto("about:blank");
      const back = await page.goBack();
      assert.deepStrictEqual(back?.status(), 400);
      assert.deepStrictEqual(await text(page, "h1"), "This link has expired");
      assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 1);
      assert.deepStrictEqual(emu.stats.oauth.tokenExchanges, 1);

      // The watcher saw the whole flow: the bot's pages and the emulator's authorize page.
      assert.ok(watcher.urls.some((u) => u.startsWith(emu.oauthAuthorizeUrl)));
      assert.ok(watcher.urls.some((u) => u.startsWith(callbackUrl)));
      watcher.check();
      await context.close();
    });
  },
});

Deno.test({
  name:
    "linked roles in Chromium: cancelling on Discord's page is a 400 'You cancelled' page; nothing stored",
  ignore: !installed,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withFixture(async (f) => {
      const { emu, bot, browser, callbackUrl } = f;
      const userId = scoredMember(emu);
      emu.state.oauth.approveAs(userId);
      emu.state.oauth.deny = true; // the user presses Cancel
      const context = await browser.newContext();
      const page = await context.newPage();
      const watcher = watch(page, [bot.url, emu.url]);

      const res = await page.goto(`${bot.url}/linked-role`);
      assert.deepStrictEqual(res?.status(), 400);
      const landed = new URL(page.url());
      assert.deepStrictEqual(`${landed.origin}${landed.pathname}`, callbackUrl);
      assert.deepStrictEqual(landed.searchParams.get("error"), "access_denied");
      assert.deepStrictEqual(landed.searchParams.get("code"), null);
      assert.deepStrictEqual(emu.state.oauth.authorizeLog.map((a) => a.outcome), ["access_denied"]);
      assert.deepStrictEqual(await text(page, "h1"), "Not linked");
      assert.match(await page.innerText("body"), /You cancelled/);
      assert.deepStrictEqual(await stateCookie(context), undefined, "the state cookie is cleared");

      await nothingStored(f, userId);
      assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 0);
      assert.deepStrictEqual(emu.stats.oauth.tokenExchanges, 0);
      watcher.check();
      await context.close();
    });
  },
});

Deno.test({
  name:
    "linked roles in Chromium: a callback the browser did not start (no state cookie) is a 400 page; nothing stored",
  ignore: !installed,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withFixture(async (f) => {
      const { emu, bot, browser, callbackUrl } = f;
      const userId = scoredMember(emu);
      // Someone else starts the flow (their cookie stays with them) and hands over the link.
      const start = await fetch(`${bot.url}/linked-role`, { redirect: "manual" });
      await start.body?.cancel();
      assert.deepStrictEqual(start.status, 302);
      assert.ok(start.headers.get("set-cookie")?.startsWith(`${STATE_COOKIE}=`));
      const authorize = start.headers.get("location")!;
      assert.ok(authorize.startsWith(emu.oauthAuthorizeUrl), authorize);

      emu.state.oauth.approveAs(userId);
      const context = await browser.newContext();
      const page = await context.newPage();
      const watcher = watch(page, [bot.url, emu.url]);
      // The browser opens the authorize link; Discord approves and sends it to the callback.
      const res = await page.goto(authorize);
      assert.deepStrictEqual(res?.status(), 400);
      assert.deepStrictEqual((await res?.request().redirectedFrom()?.response())?.status(), 302);
      const landed = new URL(page.url());
      assert.deepStrictEqual(`${landed.origin}${landed.pathname}`, callbackUrl);
      assert.ok(landed.searchParams.get("code"), "Discord's code reached the callback");
      assert.deepStrictEqual(await text(page, "h1"), "This link has expired");
      assert.match(await page.innerText("body"), /did not start here/);
      assert.deepStrictEqual(await stateCookie(context), undefined);

      await nothingStored(f, userId);
      assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 0);
      assert.deepStrictEqual(emu.stats.oauth.tokenExchanges, 0, "the code was never exchanged");
      watcher.check();
      await context.close();
    });
  },
});
