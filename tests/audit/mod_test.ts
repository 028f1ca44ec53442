/**
 * lib/audit/mod.ts, its own contract: how an entry is formed and hashed, paging, every way
 * verification reports a broken chain, retention's batches and anchor, and the append's failure
 * paths, and the chain as the backup commands use it (hashing, concurrent appends, tampering,
 * retention).
 * Kept in one file past 400 lines: the module's contract and its chain scenarios share one set of fixtures.
 */
import assert from "node:assert/strict";
import {
  appendAudit,
  auditChains,
  type AuditEntry,
  auditRetention,
  entryHash,
  GENESIS,
  GLOBAL,
  pruneAudit,
  readAudit,
  tryAppendAudit,
  verifyAudit,
} from "../../lib/audit/mod.ts";
import { keys } from "../../lib/kv/keys.ts";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { withKv } from "../kv/_kv.ts";

const G = "200000000000000001";
const H = "200000000000000002";
const DAY = 86_400_000;

async function fill(kv: Deno.Kv, clock: ManualClock, guildId: string, n: number, stepMs = 1) {
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await appendAudit({ kv, clock }, { guildId, actor: "cron", action: `a.${i + 1}` }));
    clock.advance(stepMs);
  }
  return out;
}

Deno.test("appendAudit: no guild is the global chain; a system actor is an id", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const e = await appendAudit({ kv, clock }, { actor: "http", action: "commands.sync" });
    assert.deepEqual(
      { ...e, hash: undefined },
      {
        seq: 1,
        at: clock.now(),
        guildId: GLOBAL,
        actor: { id: "http" },
        action: "commands.sync",
        detail: {},
        prev: GENESIS,
        hash: undefined,
      },
    );
    assert.equal(e.hash, await entryHash(e));
    const n = await appendAudit({ kv, clock }, { guildId: null, actor: "http", action: "x" });
    assert.equal(n.guildId, GLOBAL);
    assert.equal(n.prev, e.hash);
    assert.deepEqual(await kv.get(keys.auditHead(GLOBAL)).then((h) => h.value), {
      seq: 2,
      hash: n.hash,
    });
  }));

Deno.test("appendAudit: the detail stored is its JSON form; an oversized one is summarised", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const e = await appendAudit({ kv, clock }, {
      guildId: G,
      actor: { id: "1", name: "Ann" },
      action: "config.feature",
      detail: { big: 10n ** 20n, gone: undefined, when: new Date(0), nested: { a: [1] } },
    });
    assert.deepEqual(e.detail, {
      big: "100000000000000000000",
      when: "1970-01-01T00:00:00.000Z",
      nested: { a: [1] },
    });
    assert.deepEqual((await kv.get(keys.auditEntry(G, 1))).value, e);
    const huge = await appendAudit({ kv, clock }, {
      guildId: G,
      actor: "cron",
      action: "x",
      detail: { text: "y".repeat(9_000) },
    });
    assert.deepEqual(huge.detail, { truncated: true, size: 9_011 });
    assert.equal((await verifyAudit(kv, G)).ok, true);
  }));

Deno.test("entryHash: covers every field but the hash, whatever the key order", async () => {
  const body = {
    seq: 1,
    at: 5,
    guildId: G,
    actor: { id: "1" },
    action: "a",
    detail: { x: 1, y: 2 },
    prev: GENESIS,
  };
  const h = await entryHash(body);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(await entryHash({ ...body, detail: { y: 2, x: 1 } }), h);
  assert.equal(await entryHash({ ...body, hash: "ignored" } as never), h);
  for (
    const change of [
      { seq: 2 },
      { at: 6 },
      { guildId: H },
      { actor: { id: "2" } },
      { action: "b" },
      { detail: { x: 1 } },
      { prev: "f".repeat(64) },
    ]
  ) assert.notEqual(await entryHash({ ...body, ...change }), h, JSON.stringify(change));
});

Deno.test("appendAudit: a commit that always loses gives up with an error", () =>
  withKv(async (kv) => {
    let attempts = 0;
    // Every read of the head is followed by another writer's append, so the check always fails.
    const racing = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get") {
          return async (key: Deno.KvKey) => {
            const entry = await target.get(key);
            attempts++;
            await target.set(key, { seq: 1000 + attempts, hash: GENESIS });
            return entry;
          };
        }
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    await assert.rejects(
      appendAudit({ kv: racing, clock: new ManualClock() }, { actor: "cron", action: "x" }),
      /kept conflicting/,
    );
    assert.equal(attempts, 60);
    assert.equal((await readAudit(kv, GLOBAL)).entries.length, 0);
  }));

Deno.test("tryAppendAudit: a failed append is logged, never thrown", () =>
  withKv(async (kv) => {
    const broken = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("kv down"));
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    const log = memoryLogger();
    await tryAppendAudit({ kv: broken, clock: new ManualClock(), log }, {
      guildId: G,
      actor: "cron",
      action: "backup.create",
    });
    assert.deepEqual(log.lines.map((l) => [l.level, l.msg, l.action]), [
      ["error", "audit append failed", "backup.create"],
    ]);
    await tryAppendAudit({ kv, clock: new ManualClock() }, { actor: "cron", action: "ok" });
    assert.equal((await readAudit(kv, GLOBAL)).head, 1);
  }));

Deno.test("readAudit: an empty chain; pages newest first below beforeSeq, clamped to the head", () =>
  withKv(async (kv) => {
    assert.deepEqual(await readAudit(kv, G), { entries: [], head: 0, first: 1 });
    const clock = new ManualClock();
    await fill(kv, clock, G, 25);
    const first = await readAudit(kv, G);
    assert.deepEqual(first.entries.map((e) => e.seq), [25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    assert.equal(first.head, 25);
    const next = await readAudit(kv, G, { beforeSeq: 16, limit: 20 });
    assert.deepEqual(next.entries.map((e) => e.seq), Array.from({ length: 15 }, (_, i) => 15 - i));
    const beyond = await readAudit(kv, G, { beforeSeq: 999, limit: 2 });
    assert.deepEqual(beyond.entries.map((e) => e.seq), [25, 24]);
    // An entry past the head (written behind its back) is never shown, whatever is asked.
    const stray = { ...first.entries[0], seq: 26 };
    await kv.set(keys.auditEntry(G, 26), stray);
    assert.equal((await readAudit(kv, G, { beforeSeq: 999 })).entries[0].seq, 25);
    assert.deepEqual((await readAudit(kv, H)).entries, [], "chains are per guild");
  }));

Deno.test("readAudit: an unreadable entry is skipped; after retention `first` is past the anchor", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await fill(kv, clock, G, 5, DAY);
    await kv.set(keys.auditEntry(G, 4), { garbage: true });
    assert.deepEqual((await readAudit(kv, G)).entries.map((e) => e.seq), [5, 3, 2, 1]);
    assert.equal(await pruneAudit(kv, G, 2, clock.now()), 3);
    const page = await readAudit(kv, G);
    assert.equal(page.first, 4);
    assert.deepEqual(page.entries.map((e) => e.seq), [5]);
  }));

Deno.test("verifyAudit: an empty chain is whole", () =>
  withKv(async (kv) => {
    assert.deepEqual(await verifyAudit(kv, G), {
      ok: true,
      count: 0,
      head: 0,
      brokenAt: null,
      reason: null,
    });
  }));

/** Builds a chain of five, breaks it with `damage`, and returns what verification says. */
async function broken(damage: (kv: Deno.Kv, entries: AuditEntry[]) => Promise<unknown>) {
  return await withKv(async (kv) => {
    const entries = await fill(kv, new ManualClock(), G, 5);
    await damage(kv, entries);
    const v = await verifyAudit(kv, G);
    assert.equal(v.ok, false);
    return { brokenAt: v.brokenAt, reason: v.reason, count: v.count };
  });
}

Deno.test("verifyAudit: each kind of damage is named at the first entry that does not fit", async () => {
  assert.deepEqual(
    await broken((kv) => kv.set(keys.auditEntry(G, 3), "not an entry")),
    { brokenAt: 3, reason: "entry is not readable", count: 2 },
  );
  assert.deepEqual(
    await broken((kv, e) => kv.set(keys.auditEntry(G, 3), e[1])),
    { brokenAt: 3, reason: "entry stored under another number", count: 2 },
  );
  assert.deepEqual(
    await broken((kv) => kv.delete(keys.auditEntry(G, 3))),
    { brokenAt: 3, reason: "entry 3 is missing (next is 4)", count: 2 },
  );
  assert.deepEqual(
    await broken((kv, e) => kv.set(keys.auditEntry(G, 3), { ...e[2], guildId: H })),
    { brokenAt: 3, reason: "entry belongs to another chain", count: 2 },
  );
  assert.deepEqual(
    await broken(async (kv, e) => {
      const body = { ...e[2], prev: GENESIS };
      await kv.set(keys.auditEntry(G, 3), { ...body, hash: await entryHash(body) });
    }),
    { brokenAt: 3, reason: "link to the previous entry does not match", count: 2 },
  );
  assert.deepEqual(
    await broken((kv, e) => kv.set(keys.auditEntry(G, 3), { ...e[2], action: "edited" })),
    { brokenAt: 3, reason: "entry was modified (hash mismatch)", count: 2 },
  );
});

Deno.test("verifyAudit: a head that does not match the last entry is caught", async () => {
  assert.deepEqual(
    await broken((kv, e) => kv.set(keys.auditHead(G), { seq: 4, hash: e[3].hash })),
    { brokenAt: 5, reason: "the head (4) does not match the chain (5)", count: 5 },
  );
  assert.deepEqual(
    await broken((kv) => kv.set(keys.auditHead(G), { seq: 5, hash: "f".repeat(64) })),
    { brokenAt: 6, reason: "the head (5) does not match the chain (5)", count: 5 },
  );
  assert.deepEqual(
    await broken((kv) => kv.delete(keys.auditEntry(G, 5))),
    { brokenAt: 5, reason: "the head (5) does not match the chain (4)", count: 4 },
  );
});

Deno.test("pruneAudit: 0 days keeps all; the newest entry stays even when old", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await fill(kv, clock, G, 3, DAY);
    clock.advance(100 * DAY);
    assert.equal(await pruneAudit(kv, G, 0, clock.now()), 0);
    assert.equal(await pruneAudit(kv, G, -1, clock.now()), 0);
    assert.equal(await pruneAudit(kv, G, 1, clock.now()), 2);
    const page = await readAudit(kv, G);
    assert.deepEqual(page.entries.map((e) => e.seq), [3]);
    assert.deepEqual((await verifyAudit(kv, G)).ok, true);
    assert.equal(await pruneAudit(kv, G, 1, clock.now()), 0, "nothing more to drop");
    // The chain goes on from the kept head.
    await appendAudit({ kv, clock }, { guildId: G, actor: "cron", action: "next" });
    assert.deepEqual(await verifyAudit(kv, G), {
      ok: true,
      count: 2,
      head: 4,
      brokenAt: null,
      reason: null,
    });
  }));

Deno.test("pruneAudit: more than one batch of old entries, cut exactly at the cutoff", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    await fill(kv, clock, G, 230, 1_000);
    // Entries are at 0 s .. 229 s: a cutoff of 205 s drops the 205 before it.
    const now = 205_000 + DAY;
    assert.equal(await pruneAudit(kv, G, 1, now), 205);
    const anchor = await kv.get<{ seq: number; hash: string }>(keys.auditAnchor(G));
    assert.equal(anchor.value!.seq, 205);
    const v = await verifyAudit(kv, G);
    assert.deepEqual([v.ok, v.count, v.head], [true, 25, 230]);
  }));

Deno.test("auditRetention: prunes every chain by the configured days and reports the drops", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await fill(kv, clock, G, 4, DAY);
    await fill(kv, clock, H, 1, DAY);
    await appendAudit({ kv, clock }, { actor: "http", action: "recent" });
    assert.deepEqual((await auditChains(kv)).sort(), [G, H, GLOBAL].sort());
    const config = (days: number) => ({ ops: { auditRetentionDays: days } });
    assert.deepEqual(await auditRetention({ kv, clock, config: config(0) }), {});
    assert.equal((await readAudit(kv, G)).head, 4);
    clock.advance(3 * DAY);
    assert.deepEqual(await auditRetention({ kv, clock, config: config(1) }), { [G]: 3 });
  }));

/** A fresh KV and a manual clock at 2026-01-01 for the chain scenarios below. */
async function withKvAndClock(fn: (kv: Deno.Kv, clock: ManualClock) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv, new ManualClock(Date.UTC(2026, 0, 1)));
  } finally {
    kv.close();
  }
}

Deno.test("audit: entries chain by hash; pages read newest first", async () => {
  await withKvAndClock(async (kv, clock) => {
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
  await withKvAndClock(async (kv, clock) => {
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
  await withKvAndClock(async (kv, clock) => {
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
  await withKvAndClock(async (kv, clock) => {
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
