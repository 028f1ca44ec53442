/**
 * lib/manifest/store.ts: the manifest sync's KV state, validated on write and on read, the
 * fallback copies, and the capped sync log (newest first).
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { ManualClock } from "../_clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import { KvCodecError } from "../../lib/kv/codec.ts";
import {
  appendLog,
  clearFallbackCopy,
  getCooldown,
  getDrift,
  getSynced,
  listFallbackCopies,
  readLog,
  setCooldown,
  setDrift,
  setFallbackCopy,
  setSynced,
} from "../../lib/manifest/store.ts";
import type { SyncLogEntry } from "../../lib/manifest/types.ts";

const G1 = "200000000000000001";
const G2 = "200000000000000002";
const T0 = Date.UTC(2026, 10, 22, 12);

function entry(o: Partial<SyncLogEntry> = {}): SyncLogEntry {
  return {
    scope: "global",
    outcome: "synced",
    fingerprint: "f".repeat(64),
    calls: 2,
    at: T0,
    durationMs: 120,
    trigger: "test",
    forced: false,
    ...o,
  };
}

Deno.test("synced: stored per scope and read back; a record of another shape is refused loudly", () =>
  withKv(async (kv) => {
    const rec = { fingerprint: "abc", at: T0, commands: 12, via: "synced" as const };
    await setSynced(kv, "global", rec);
    assert.deepStrictEqual(await getSynced(kv, "global"), rec);
    assert.equal(await getSynced(kv, `guild:${G1}`), null);
    await kv.set(keys.commandsSynced(`guild:${G1}`), { fingerprint: "abc" });
    await assert.rejects(() => getSynced(kv, `guild:${G1}`), KvCodecError);
    // Writes are validated too: nothing of another shape is stored.
    await assert.rejects(() =>
      setSynced(kv, "global", { ...rec, via: "guessed" } as unknown as typeof rec)
    );
    assert.deepStrictEqual(await getSynced(kv, "global"), rec);
  }));

Deno.test("cooldown: in force until its time, then gone", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(T0);
    const rec = { until: T0 + 5_000, retryAfterMs: 5_000, setAt: T0, error: "429" };
    await setCooldown(kv, "global", rec, clock);
    assert.deepStrictEqual(await getCooldown(kv, "global", clock), rec);
    assert.equal(await getCooldown(kv, `guild:${G1}`, clock), null);
    clock.advance(4_999);
    assert.deepStrictEqual(await getCooldown(kv, "global", clock), rec);
    clock.advance(1);
    assert.equal(await getCooldown(kv, "global", clock), null);
  }));

Deno.test("drift: the last check per scope", () =>
  withKv(async (kv) => {
    const summary = {
      added: 1,
      removed: 0,
      changed: 0,
      unchanged: 3,
      names: { added: ["help"], removed: [], changed: [] },
    };
    const rec = { at: T0, inSync: false, fingerprint: "a", discordFingerprint: "b", summary };
    await setDrift(kv, "global", rec);
    assert.deepStrictEqual(await getDrift(kv, "global"), rec);
    assert.equal(await getDrift(kv, `guild:${G1}`), null);
  }));

Deno.test("fallback copies: listed by guild, bad records skipped; clearing forgets the guild's sync", () =>
  withKv(async (kv) => {
    assert.deepStrictEqual(await listFallbackCopies(kv), []);
    await setFallbackCopy(kv, G2, { at: T0 + 1, fingerprint: "f2" });
    await setFallbackCopy(kv, G1, { at: T0, fingerprint: "f1" });
    await kv.set(keys.commandsFallback("200000000000000003"), { at: "yesterday" });
    assert.deepStrictEqual(await listFallbackCopies(kv), [
      { guildId: G1, record: { at: T0, fingerprint: "f1" } },
      { guildId: G2, record: { at: T0 + 1, fingerprint: "f2" } },
    ]);

    const synced = { fingerprint: "f1", at: T0, commands: 3, via: "synced" as const };
    await setSynced(kv, `guild:${G1}`, synced);
    await setSynced(kv, "global", synced);
    await clearFallbackCopy(kv, G1);
    assert.deepStrictEqual((await listFallbackCopies(kv)).map((c) => c.guildId), [G2]);
    assert.equal(await getSynced(kv, `guild:${G1}`), null);
    assert.deepStrictEqual(await getSynced(kv, "global"), synced, "other scopes keep theirs");
  }));

Deno.test("sync log: newest first, same-millisecond entries in their order, limited on read", () =>
  withKv(async (kv) => {
    await appendLog(kv, entry({ at: T0, outcome: "failed", error: "boom", status: 500 }));
    await appendLog(kv, entry({ at: T0 + 1, outcome: "synced" }));
    await appendLog(kv, entry({ at: T0 + 1, outcome: "unchanged" }));
    const all = await readLog(kv);
    assert.deepStrictEqual(all.map((e) => e.outcome), ["unchanged", "synced", "failed"]);
    assert.deepStrictEqual(
      all[2],
      entry({ at: T0, outcome: "failed", error: "boom", status: 500 }),
    );
    assert.deepStrictEqual((await readLog(kv, 1)).map((e) => e.outcome), ["unchanged"]);
  }));

Deno.test("sync log: trimmed to the newest `cap` entries; a bad entry is refused or skipped", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 7; i++) await appendLog(kv, entry({ at: T0 + i, calls: i }), 5);
    const kept = await readLog(kv);
    assert.deepStrictEqual(kept.map((e) => e.calls), [6, 5, 4, 3, 2]);
    let stored = 0;
    for await (const _ of kv.list({ prefix: keys.commandsLogPrefix() })) stored++;
    assert.equal(stored, 5);

    await assert.rejects(() => appendLog(kv, entry({ scope: "guild:abc" as `guild:${string}` })));
    await assert.rejects(() =>
      appendLog(kv, entry({ trigger: "someone" as SyncLogEntry["trigger"] }))
    );
    await kv.set(keys.commandsLog(T0 + 100, "x"), { scope: "global", outcome: "synced" });
    assert.deepStrictEqual((await readLog(kv)).map((e) => e.calls), [6, 5, 4, 3, 2]);
  }));
