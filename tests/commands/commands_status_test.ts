/**
 * lib/commands/commands_status.ts: the manifest's status as Discord markdown (last sync and
 * whether the code moved on since, the last attempt, a cooldown, live drift with the names, or
 * the last stored check when Discord did not answer), and the command itself.
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { commandsStatus, renderCommandStatus } from "../../lib/commands/commands_status.ts";
import type { CommandStatus } from "../../lib/manifest/status.ts";
import { shortFingerprint } from "../../lib/manifest/canonical.ts";
import type { DiffReport, ManifestDiff } from "../../lib/manifest/types.ts";
import { APP_ID, commandInteraction, createTestApp } from "../_harness.ts";

const FP = "a".repeat(64);
const OLD = "b".repeat(64);
const AT = Date.UTC(2026, 10, 22, 12);
const when = (ms: number) => `<t:${ms / 1000}:f> (<t:${ms / 1000}:R>)`;

function status(over: Partial<CommandStatus> = {}): CommandStatus {
  return {
    scope: "global",
    fingerprint: FP,
    commands: 12,
    synced: null,
    lastAttempt: null,
    cooldown: null,
    live: null,
    lastCheck: null,
    ...over,
  };
}

function live(diff: Partial<ManifestDiff>): DiffReport {
  const d: ManifestDiff = {
    added: [],
    removed: [],
    changed: [],
    unchanged: 12,
    inSync: true,
    ...diff,
  };
  return {
    scope: "global",
    at: AT,
    fingerprint: FP,
    discordFingerprint: FP,
    syncedFingerprint: FP,
    syncedAt: AT,
    counts: { code: 12, discord: 12 },
    diff: d,
    inSync: d.inSync,
    calls: 1,
  };
}

const lines = (s: CommandStatus) => renderCommandStatus(s, "en").split("\n");

Deno.test("renderCommandStatus: never synced, Discord not answering, no check before", () => {
  assert.deepEqual(lines(status({ liveError: "timed out" })), [
    "**Command manifest** · scope `global`",
    `Fingerprint: \`${shortFingerprint(FP)}\` (12 commands)`,
    "Last sync: never recorded for this scope",
    "Discord: not checked now (timed out)",
  ]);
  assert.equal(lines(status()).at(-1), "Discord: not checked now (no answer)");
});

Deno.test("renderCommandStatus: synced and in sync; a code change since is a pending sync", () => {
  const synced = { fingerprint: FP, at: AT, commands: 12, via: "synced" as const };
  const same = lines(status({ synced, live: live({}) }));
  assert.match(same[2], new RegExp(`^Last sync: ${escape(when(AT))}, fingerprint \`\\w+\`$`));
  assert.equal(same[3], "Discord: in sync ✅ (12 registered)");
  const moved = lines(status({ synced: { ...synced, fingerprint: OLD }, live: live({}) }));
  assert.match(moved[2], / \(the code has changed since: a sync is pending\)$/);
});

Deno.test("renderCommandStatus: drift lists what is missing, extra and changed, a few names each", () => {
  const ref = (name: string) => ({ name, type: 1 });
  const out = lines(status({
    live: live({
      inSync: false,
      added: ["a", "b", "c", "d", "e", "f", "g"].map(ref),
      removed: [{ name: "old", type: 2 }],
      changed: [{ ...ref("help"), fields: [] }],
    }),
  }));
  assert.deepEqual(out.slice(3), [
    "Discord: **drift** ⚠️ 7 added, 1 removed, 1 changed",
    "- missing on Discord: `/a`, `/b`, `/c`, `/d`, `/e` +2",
    "- only on Discord: `/old (type 2)`",
    "- changed: `/help`",
    "Run `deno task commands diff` for details, `commands sync` to apply.",
  ]);
});

Deno.test("renderCommandStatus: the last attempt, a cooldown, and the last stored check", () => {
  const out = lines(status({
    lastAttempt: {
      scope: "global",
      outcome: "rate_limited",
      fingerprint: FP,
      calls: 3,
      at: AT,
      durationMs: 10,
      error: "429 ".repeat(100),
      trigger: "cron",
      forced: false,
    },
    cooldown: { until: AT + 60_000, retryAfterMs: 60_000, setAt: AT, error: "429" },
    lastCheck: {
      at: AT,
      inSync: false,
      fingerprint: FP,
      discordFingerprint: OLD,
      summary: {
        added: 0,
        removed: 2,
        changed: 0,
        unchanged: 10,
        names: { added: [], removed: [], changed: [] },
      },
    },
  }));
  assert.ok(
    out[3].startsWith(`Last attempt: ${when(AT)}: rate limited (cron, 3 calls): 429 `),
    out[3],
  );
  assert.equal(
    out[3].length,
    `Last attempt: ${when(AT)}: rate limited (cron, 3 calls): `.length + 200,
  );
  assert.equal(
    out[4],
    `Rate-limit cooldown until ${when(AT + 60_000)}: syncs are skipped until then`,
  );
  assert.equal(out[5], "Discord: not checked now (no answer)");
  assert.equal(out[6], `Last check ${when(AT)}: drift: 2 removed`);
});

Deno.test("renderCommandStatus: never longer than 1,900 characters", () => {
  const s = status({ liveError: "x".repeat(5_000), scope: `guild:${"1".repeat(1_900)}` });
  assert.equal(renderCommandStatus(s, "en").length, 1_900);
});

Deno.test("/commands_status: Manage Server only; answers privately with the live drift", async () => {
  const t = await createTestApp({
    routes: { [`GET /applications/${APP_ID}/commands`]: [] },
  });
  try {
    assert.equal(
      commandsStatus.json.default_member_permissions,
      String(PermissionFlagsBits.ManageGuild),
    );
    const denied = await (await t.post(commandInteraction("commands_status"))).json();
    assert.doesNotMatch(denied.data.content, /Command manifest/);
    const ok = await (await t.post(
      commandInteraction("commands_status", [], { permissions: PermissionFlagsBits.ManageGuild }),
    )).json();
    assert.equal(ok.data.flags & 64, 64, "ephemeral");
    const text: string = ok.data.content;
    assert.match(text, /^\*\*Command manifest\*\* · scope `global`/);
    assert.match(text, /Discord: \*\*drift\*\* ⚠️ \d+ added/);
    assert.ok(
      t.calls.some((c) => c.method === "GET" && c.path === `/applications/${APP_ID}/commands`),
    );
  } finally {
    await t.close();
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
