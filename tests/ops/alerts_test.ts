import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { ALERT_DEDUPE_MS, raiseAlert, recentAlerts } from "../../lib/ops/alerts.ts";

const BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB";
const WEBHOOK =
  "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyz_ABCDEFGH";

async function setup(opts: { url?: string; status?: number } = {}) {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock();
  const log = memoryLogger();
  const sent: { url: string; body: { embeds: { title: string; description: string }[] } }[] = [];
  const fetch = ((url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), body: JSON.parse(String(init?.body)) });
    return Promise.resolve(new Response(null, { status: opts.status ?? 204 }));
  }) as typeof globalThis.fetch;
  const deps = {
    kv,
    clock,
    log,
    fetch,
    config: { ops: { alertWebhookUrl: "url" in opts ? opts.url : WEBHOOK } },
  };
  return { kv, clock, log, sent, deps };
}

Deno.test("alerts: one per cause per hour, across callers; each kept for the status page", async () => {
  const { kv, clock, sent, deps } = await setup();
  try {
    assert.deepStrictEqual(
      await raiseAlert(deps, { cause: "sync_failed:1", title: "Role sync failed", detail: "boom" }),
      "sent",
    );
    assert.deepStrictEqual(
      await raiseAlert(deps, {
        cause: "sync_failed:1",
        title: "Role sync failed",
        detail: "again",
      }),
      "deduplicated",
    );
    assert.deepStrictEqual(
      await raiseAlert(deps, { cause: "drift", title: "Command drift", detail: "2 changed" }),
      "sent",
    );
    assert.deepStrictEqual(sent.length, 2);
    assert.deepStrictEqual(sent[0].url, WEBHOOK);
    clock.advance(1);
    assert.match(sent[0].body.embeds[0].title, /Role sync failed/);
    // Concurrent raises of one cause still send once.
    const results = await Promise.all(
      Array.from(
        { length: 5 },
        () => raiseAlert(deps, { cause: "guard", title: "t", detail: "d" }),
      ),
    );
    assert.deepStrictEqual(results.filter((r) => r === "sent").length, 1);
    clock.advance(ALERT_DEDUPE_MS + 1);
    assert.deepStrictEqual(
      await raiseAlert(deps, {
        cause: "sync_failed:1",
        title: "Role sync failed",
        detail: "later",
      }),
      "sent",
    );
    const recent = await recentAlerts(kv);
    assert.deepStrictEqual(recent.map((a) => a.cause), [
      "sync_failed:1",
      "guard",
      "drift",
      "sync_failed:1",
    ]);
    assert.deepStrictEqual(recent[0].detail, "later");
  } finally {
    kv.close();
  }
});

Deno.test("alerts: no webhook configured or a failing webhook still records, never throws, never leaks", async () => {
  const none = await setup({ url: undefined });
  const failing = await setup({ status: 500 });
  try {
    assert.deepStrictEqual(
      await raiseAlert(none.deps, { cause: "a", title: "t", detail: "d" }),
      "recorded",
    );
    assert.deepStrictEqual(none.sent.length, 0);
    assert.deepStrictEqual(
      await raiseAlert(failing.deps, {
        cause: "a",
        title: "t",
        detail: `token ${BOT_TOKEN} leaked`,
      }),
      "recorded",
    );
    const [alert] = await recentAlerts(failing.kv);
    assert.deepStrictEqual(alert.delivered, false);
    assert.ok(!alert.detail.includes(BOT_TOKEN), "secrets are redacted from alerts");
    assert.ok(
      !JSON.stringify(failing.log.lines).includes("abcdefghijklmnopqrstuvwxyz_ABCDEFGH"),
      "webhook token never logged",
    );
  } finally {
    none.kv.close();
    failing.kv.close();
  }
});
