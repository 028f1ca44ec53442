/**
 * The status page in a real browser: headless Chromium (Debian's package) driven by
 * playwright-core opens the signed link during and after a role sync on the emulator, and the
 * figures it shows must match GET /sync-status. Also writes the README's screenshot.
 */
import { hasChromium, launchChromium } from "./_chromium.ts";
import assert from "node:assert/strict";
import { startFixture, TOKEN } from "./sync_helpers.ts";

const installed = hasChromium("status page browser test");

const num = (s: string | null) => Number((s ?? "").replace(/[^0-9.]/g, ""));

Deno.test({
  name: "status page in headless Chromium: signed link, session cookie, figures match /sync-status",
  ignore: !installed,
  sanitizeResources: false, // the browser's pipes outlive the test's bookkeeping
  sanitizeOps: false,
  async fn() {
    // Slow enough limits that the run is still going when the page first loads.
    const f = await startFixture({ uniformRate: 25, guilds: [{ members: 400 }] });
    const browser = await launchChromium();
    try {
      const started = await f.bot.trigger({ startIndex: 0, chunkSize: 10_000 });
      assert.deepStrictEqual(started.status, 202);
      const linkRes = await f.bot.request("POST", "/status-link", undefined, TOKEN);
      const { url } = await linkRes.json();
      assert.ok(url.startsWith(`${f.bot.url}/status/login?t=`), url);

      // Without a session: 401, in the browser and for a plain request.
      const stranger = await browser.newPage();
      const denied = await stranger.goto(`${f.bot.url}/status`);
      assert.deepStrictEqual(denied?.status(), 401);
      assert.match(await stranger.title(), /sign-in needed/);
      await stranger.close();

      const context = await browser.newContext({ viewport: { width: 1200, height: 1800 } });
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForURL(`${f.bot.url}/status`);
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === "status_session");
      assert.ok(session?.httpOnly, "HttpOnly session cookie");
      assert.deepStrictEqual(session?.sameSite, "Strict");
      assert.ok(!page.url().includes("t="), "no token left in the URL");

      // During the run: the page's count lies between two status reads around it.
      await f.bot.waitFor((p) => p.state === "running" && p.processed > 0, 30_000);
      const before = await f.bot.status();
      await page.reload();
      const during = num(await page.textContent("#sync-processed"));
      const after = await f.bot.status();
      assert.ok(
        before.processed <= during && during <= after.processed,
        `${before.processed} <= ${during} <= ${after.processed}`,
      );
      assert.deepStrictEqual(await page.textContent("#sync-run"), before.runId);

      // After the run: every figure equals the route's, and the page refreshed itself.
      const done = await f.bot.waitFor((p) => p.state === "completed", 120_000);
      // Runs in the page, where its own script swaps <main> every 5 s.
      await page.waitForFunction(
        () => {
          const doc = (globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string | null } | null };
          }).document;
          return doc.querySelector("#sync-state")?.textContent?.trim() === "completed";
        },
        undefined,
        { timeout: 15_000 },
      );
      const sum = (prefix: string) =>
        Object.entries(done.counters).filter(([k]) => k === prefix || k.startsWith(`${prefix}.`))
          .reduce((n, [, v]) => n + v, 0);
      assert.deepStrictEqual(num(await page.textContent("#sync-processed")), done.processed);
      assert.deepStrictEqual(num(await page.textContent("#sync-total")), done.total ?? 0);
      assert.deepStrictEqual(num(await page.textContent("#sync-changed")), sum("changed"));
      assert.deepStrictEqual(num(await page.textContent("#sync-unchanged")), sum("unchanged"));
      assert.deepStrictEqual(num(await page.textContent("#sync-skipped")), sum("skipped"));
      assert.deepStrictEqual(num(await page.textContent("#sync-chunk")), done.chunk);
      assert.deepStrictEqual(await page.getAttribute("#sync-bar", "value"), String(done.processed));
      // The finished run is listed, and the page has its sections and landmarks.
      assert.match(await page.textContent("table") ?? "", /completed/);
      for (
        const h of [
          "Role sync",
          "Discord REST health",
          "Command manifest",
          "Backups",
          "Recent alerts",
        ]
      ) {
        assert.ok(await page.isVisible(`h2:text("${h}")`), h);
      }
      const shot = await page.screenshot({ fullPage: true });
      const out = Deno.env.get("STATUS_SCREENSHOT");
      if (out) await Deno.writeFile(out, shot);
      assert.ok(shot.length > 10_000, "a real screenshot");
      await context.close();
    } finally {
      await browser.close();
      await f.close();
    }
  },
});
