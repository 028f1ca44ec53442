import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  appendAudit,
  auditChains,
  type AuditEntry,
  GENESIS,
  pruneAudit,
  readAudit,
  verifyAudit,
} from "../../lib/audit/mod.ts";

const G = "200000000000000001";

async function withKv(fn: (kv: Deno.Kv, clock: ManualClock) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv, new ManualClock(Date.UTC(2026, 0, 1)));
  } finally {
    kv.close();
  }
}

Deno.test("audit: entries chain by hash; pages read newest first", async () => {
  await withKv(async (kv, clock) => {
    const deps = { kv, clock };
    const first = await appendAudit(deps, {
      guildId: G,
      actor: { id: "1", name: "a" },
      action: "backup.create",
      detail: { backupId: "x" },
    });
    assert.deepStrictEqual(first.seq, 1);
    assert.deepStrictEqual(first.prev, GENESIS);
    clock.advance(1000);
    const second = await appendAudit(deps, { guildId: G, actor: "cron", action: "backup.prune" });
    assert.deepStrictEqual(second.prev, first.hash);
    assert.deepStrictEqual(second.actor, { id: "cron" });
    const page = await readAudit(kv, G, { limit: 10 });
    assert.deepStrictEqual(page.entries.map((e) => e.seq), [2, 1]);
    assert.deepStrictEqual(page.head, 2);
    assert.deepStrictEqual(
      (await readAudit(kv, G, { beforeSeq: 2, limit: 10 })).entries.map((e) => e.seq),
      [
        1,
      ],
    );
    assert.deepStrictEqual(await verifyAudit(kv, G), {
      ok: true,
      count: 2,
      head: 2,
      brokenAt: null,
      reason: null,
    });
    // Actions without a guild go to the global chain.
    await appendAudit(deps, { actor: "http", action: "commands.sync" });
    assert.deepStrictEqual((await auditChains(kv)).sort(), [G, "global"]);
  });
});

Deno.test("audit: concurrent appends never fork the chain", async () => {
  await withKv(async (kv, clock) => {
    const deps = { kv, clock };
    const entries = await Promise.all(
      Array.from(
        { length: 25 },
        (_, i) => appendAudit(deps, { guildId: G, actor: String(i), action: "test.concurrent" }),
      ),
    );
    assert.deepStrictEqual(
      entries.map((e) => e.seq).sort((a, b) => a - b),
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    const v = await verifyAudit(kv, G);
    assert.deepStrictEqual(v.ok, true);
    assert.deepStrictEqual(v.count, 25);
  });
});

Deno.test("audit: an edited, removed or appended-behind-the-head entry is detected", async () => {
  await withKv(async (kv, clock) => {
    const deps = { kv, clock };
    for (let i = 0; i < 5; i++) {
      await appendAudit(deps, { guildId: G, actor: "1", action: "a", detail: { i } });
    }
    const key = keys.auditEntry(G, 3);
    const original = (await kv.get<AuditEntry>(key)).value!;

    await kv.set(key, { ...original, detail: { i: 99 } });
    const edited = await verifyAudit(kv, G);
    assert.deepStrictEqual([edited.ok, edited.brokenAt], [false, 3]);
    assert.deepStrictEqual(edited.reason, "entry was modified (hash mismatch)");

    // Re-hashing the edited entry does not help: the next entry's link breaks.
    const { entryHash } = await import("../../lib/audit/mod.ts");
    const forged = { ...original, detail: { i: 99 } };
    await kv.set(key, { ...forged, hash: await entryHash(forged) });
    assert.deepStrictEqual((await verifyAudit(kv, G)).brokenAt, 4);

    await kv.set(key, original);
    assert.deepStrictEqual((await verifyAudit(kv, G)).ok, true);
    await kv.delete(key);
    const removed = await verifyAudit(kv, G);
    assert.deepStrictEqual([removed.ok, removed.brokenAt], [false, 3]);
    await kv.set(key, original);

    // The newest entry removed: the head no longer matches.
    await kv.delete(keys.auditEntry(G, 5));
    const truncated = await verifyAudit(kv, G);
    assert.deepStrictEqual(truncated.ok, false);
  });
});

Deno.test("audit: retention drops old entries and the rest still verifies from the anchor", async () => {
  await withKv(async (kv, clock) => {
    const deps = { kv, clock };
    for (let i = 0; i < 6; i++) {
      await appendAudit(deps, { guildId: G, actor: "1", action: "old" });
    }
    clock.advance(40 * 86_400_000);
    await appendAudit(deps, { guildId: G, actor: "1", action: "new" });
    assert.deepStrictEqual(await pruneAudit(kv, G, 30, clock.now()), 6);
    const v = await verifyAudit(kv, G);
    assert.deepStrictEqual(v, { ok: true, count: 1, head: 7, brokenAt: null, reason: null });
    assert.deepStrictEqual((await readAudit(kv, G)).first, 7);
    // The newest entry is never dropped, however old.
    clock.advance(100 * 86_400_000);
    assert.deepStrictEqual(await pruneAudit(kv, G, 30, clock.now()), 0);
    assert.deepStrictEqual(await pruneAudit(kv, G, 0, clock.now()), 0);
  });
});
