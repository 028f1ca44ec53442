/**
 * The writing part of a sync chunk (lib/sync/chunk_writer.ts) over a recording stand-in of the
 * REST client, on a manual clock: the split between the PATCH and role lanes, a PATCH computed
 * from a read no older than SYNC_FRESH_MS (re-read, or skipped when someone else changed the
 * member meanwhile), how each refusal ends a member or fails the chunk, the first writers probing
 * unknown bucket limits, and the limits and global share adopted from the client.
 * Kept in one file past 400 lines: the cases share the stand-ins above.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { testConfig } from "../_config.ts";
import { memoryLogger } from "../_log.ts";
import { drive } from "../discord/_fake_discord.ts";
import { DiscordApiError, DiscordHttpError } from "../../lib/discord/errors.ts";
import type { RestClient } from "../../lib/discord/rest.ts";
import type { BucketLimits } from "../../lib/discord/pacer.ts";
import { rolesAfter } from "../../lib/discord/member_roles.ts";
import { DrainShare } from "../../lib/sync/drain_share.ts";
import { managedRoles } from "../../lib/sync/rule.ts";
import { emptyChunkStats, type EngineDeps, type Item } from "../../lib/sync/chunk_model.ts";
import type { ChunkTracker } from "../../lib/sync/chunk_tracker.ts";
import { ChunkWriter } from "../../lib/sync/chunk_writer.ts";
import {
  engineOptions,
  GUILD,
  item,
  recordingJob,
  RecordingTracker,
  ROLE,
  rules,
  uid,
} from "./_chunk.ts";

interface Sent {
  method: string;
  user: string;
  role?: string;
  body?: { roles: string[] };
  at: number;
}

/**
 * What the writer needs of a REST client: member reads and role writes (recorded, answered from
 * `roles`, or failing with `refuse`), and optionally the limits it learned and its global share.
 */
class FakeRest {
  sent: Sent[] = [];
  roles = new Map<string, string[]>();
  refuse = new Map<string, Error>();
  bucketInfo?: (method: string, path: string) => BucketLimits | null;
  learnedLimits?: (method: string, path: string) => Promise<BucketLimits | null>;
  globalShare?: () => number;
  constructor(private readonly clock: ManualClock) {}

  #call(method: string, path: string, o: { body?: unknown } = {}): Promise<unknown> {
    const m = /^\/guilds\/\d+\/members\/(\d+)(?:\/roles\/(\d+))?$/.exec(path);
    if (!m) return Promise.reject(new Error(`unexpected ${method} ${path}`));
    const [, user, role] = m;
    this.sent.push({
      method,
      user,
      ...(role ? { role } : {}),
      ...(o.body ? { body: o.body as { roles: string[] } } : {}),
      at: this.clock.now(),
    });
    const refusal = method === "GET" ? undefined : this.refuse.get(user);
    if (refusal) return Promise.reject(refusal);
    const roles = this.roles.get(user) ?? [];
    return Promise.resolve({ user: { id: user }, roles });
  }
  get = (path: string, o?: { body?: unknown }) => this.#call("GET", path, o);
  patch = (path: string, o?: { body?: unknown }) => this.#call("PATCH", path, o);
  put = (path: string, o?: { body?: unknown }) => this.#call("PUT", path, o);
  delete = (path: string, o?: { body?: unknown }) => this.#call("DELETE", path, o);

  /** The writes each member got, in order: "PATCH", "PUT <role>", "DELETE <role>". */
  writesOf(user: string): string[] {
    return this.sent.filter((s) => s.user === user && s.method !== "GET")
      .map((s) => s.role ? `${s.method} ${s.role}` : s.method);
  }
}

const config = testConfig({
  SYNC_PATCH_LIMIT: "10/1s",
  SYNC_ROLE_LIMIT: "10/1s",
  SYNC_FRESH_MS: "5000",
  DISCORD_GLOBAL_RATE_LIMIT: "50",
});

function setup(o: { dryRun?: boolean } = {}) {
  const clock = new ManualClock();
  const rest = new FakeRest(clock);
  const log = memoryLogger();
  const deps = { config, rest: rest as unknown as RestClient, clock, log } as unknown as EngineDeps;
  const job = recordingJob();
  const tracker = new RecordingTracker();
  const stats = emptyChunkStats();
  const stop = new AbortController();
  const failures: unknown[] = [];
  const writer = new ChunkWriter(
    job,
    deps,
    engineOptions({ dryRun: o.dryRun ?? false }),
    stats,
    tracker as unknown as ChunkTracker,
    new DrainShare(config.sync.freshMs),
    managedRoles(rules),
    stop.signal,
    (e) => failures.push(e),
  );
  /** Runs the lanes over `writers` until they drain. */
  const run = async (writers: Item[]) => {
    const lanes = writer.start();
    writer.assign(writers);
    writer.close();
    await drive(clock, lanes, { stepMs: 1 });
  };
  return { clock, rest, log, job, tracker, stats, stop, failures, writer, run };
}

/** A PATCH bucket far slower than the role bucket: the split sends every change by role call. */
function rolesOnly(s: ReturnType<typeof setup>): void {
  s.rest.bucketInfo = (method) =>
    method === "PATCH" ? { limit: 1, windowMs: 600_000 } : { limit: 10, windowMs: 1000 };
  s.writer.learnLimits(true);
}

/** A verified member at `readAt` whose write turns `from` into `to` (tier roles). */
function writerItem(
  n: number,
  change: { add?: string[]; remove?: string[] },
  held: string[] = [],
  readAt = 0,
): Item {
  const it = item(uid(n), [ROLE.verified, ...held, ...(change.remove ?? [])], { readAt });
  it.diff = { add: change.add ?? [], remove: change.remove ?? [], blocked: [] };
  return it;
}

Deno.test("chunk writer: every writer is written once, by one PATCH or one call per change", async () => {
  const s = setup();
  const now = s.clock.now();
  const writers = [
    ...Array.from({ length: 6 }, (_, i) => writerItem(i + 1, { add: [ROLE.mid] }, [], now)),
    ...Array.from(
      { length: 6 },
      (_, i) => writerItem(i + 11, { add: [ROLE.high], remove: [ROLE.low, ROLE.mid] }, [], now),
    ),
  ];
  for (const w of writers) s.rest.roles.set(w.id, w.roles);
  await s.run(writers);
  let patches = 0;
  let roleCalls = 0;
  for (const w of writers) {
    const writes = s.rest.writesOf(w.id);
    if (writes[0] === "PATCH") {
      patches++;
      assert.deepStrictEqual(writes, ["PATCH"], w.id);
      const body = s.rest.sent.find((x) => x.user === w.id && x.method === "PATCH")!.body!;
      assert.deepStrictEqual(body.roles, rolesAfter(w.roles, w.diff!));
    } else {
      roleCalls += writes.length;
      assert.deepStrictEqual(writes, [
        ...w.diff!.add.map((r) => `PUT ${r}`),
        ...w.diff!.remove.map((r) => `DELETE ${r}`),
      ], w.id);
    }
    assert.equal(s.tracker.finished.get(w.id), "changed", w.id);
  }
  // The split is the cheaper route for the bigger changes: a three-change member by PATCH.
  assert.ok(writers.slice(6).some((w) => s.rest.writesOf(w.id)[0] === "PATCH"));
  assert.deepStrictEqual([s.stats.patches, s.stats.roleCalls], [patches, roleCalls]);
  assert.equal(s.writer.callsPlanned, patches + roleCalls);
  assert.deepStrictEqual(
    [s.tracker.counts["calls.patch"] ?? 0, s.tracker.counts["calls.role"] ?? 0],
    [patches, roleCalls],
  );
  assert.equal(s.rest.sent.filter((x) => x.method === "GET").length, 0, "reads were fresh");
  assert.deepStrictEqual(s.failures, []);
});

Deno.test("chunk writer: a PATCH from an old read re-reads first and keeps others' changes", async () => {
  const s = setup();
  s.clock.advance(10_000);
  // Read 6 s ago (SYNC_FRESH_MS is 5 s); since then a moderator gave an unmanaged role.
  const it = writerItem(
    1,
    { add: [ROLE.high], remove: [ROLE.low, ROLE.mid] },
    [],
    s.clock.now() - 6_000,
  );
  s.rest.roles.set(it.id, [...it.roles, ROLE.other]);
  await s.run([it]);
  assert.deepStrictEqual(s.rest.sent.map((x) => x.method), ["GET", "PATCH"]);
  assert.deepStrictEqual(
    s.rest.sent[1].body!.roles.sort(),
    [ROLE.verified, ROLE.other, ROLE.high].sort(),
  );
  assert.equal(s.tracker.finished.get(it.id), "changed");
  assert.equal(s.stats.rereads, 1);
  assert.equal(s.tracker.counts["calls.reread"], 1);
  assert.ok(s.stats.maxPatchReadAgeMs < 5_000, `${s.stats.maxPatchReadAgeMs} ms`);
});

Deno.test("chunk writer: a member someone else changed meanwhile is skipped, not overwritten", async () => {
  for (
    const [why, now] of [
      ["a managed role", (r: string[]) => [...r.filter((x) => x !== ROLE.low), ROLE.mid]],
      ["the verified role", (r: string[]) => r.filter((x) => x !== ROLE.verified)],
    ] as const
  ) {
    const s = setup();
    s.clock.advance(10_000);
    const it = writerItem(1, { add: [ROLE.high], remove: [ROLE.low] }, [ROLE.mid], 0);
    s.rest.roles.set(it.id, now(it.roles));
    await s.run([it]);
    assert.deepStrictEqual(s.rest.sent.map((x) => x.method), ["GET"], why);
    assert.equal(s.tracker.finished.get(it.id), "skipped.changed_during_sync", why);
  }
});

Deno.test("chunk writer: a refused write ends the member; a failing one fails the chunk", async () => {
  const s = setup();
  const now = s.clock.now();
  const refused = (code: number, status: number) =>
    new DiscordApiError(status, code, "refused", undefined, "PATCH", "/guilds/:id");
  const big = { add: [ROLE.high], remove: [ROLE.low, ROLE.mid] }; // a PATCH
  const writers = [
    writerItem(1, big, [], now),
    writerItem(2, big, [], now),
    writerItem(3, big, [], now),
    writerItem(4, big, [], now),
  ];
  s.rest.refuse.set(uid(1), refused(10007, 404));
  s.rest.refuse.set(uid(2), refused(50013, 403));
  s.rest.refuse.set(uid(3), refused(10011, 404));
  const down = new DiscordHttpError(502, "PATCH", "/guilds/:id", "bad gateway");
  s.rest.refuse.set(uid(4), down);
  await s.run(writers);
  assert.deepStrictEqual(Object.fromEntries(s.tracker.finished), {
    [uid(1)]: "skipped.left_guild",
    [uid(2)]: "errors.missing_permissions",
    [uid(3)]: "errors.unknown_role",
  });
  // A 5xx after the client's retries is not the member's: the chunk fails, the member waits.
  assert.deepStrictEqual(s.failures, [down]);
  assert.equal(writers[3].done, false);
  const warned = s.log.lines.filter((l) => l.msg === "sync: write refused");
  assert.deepStrictEqual(warned.map((l) => [l.userId, l.code]), [
    [uid(2), "missing_permissions"],
    [uid(3), "unknown_role"],
  ]);
  assert.equal(s.stats.patches, 0);
});

Deno.test("chunk writer: a member gone mid-way is not sent its remaining role calls", async () => {
  const s = setup();
  const it = writerItem(1, { add: [ROLE.high], remove: [ROLE.low] }, [], s.clock.now());
  const gone = new DiscordApiError(404, 10007, "Unknown Member", undefined, "PUT", "x");
  s.rest.refuse.set(it.id, gone);
  const lanes = s.writer.start();
  rolesOnly(s);
  s.writer.assign([it]);
  s.writer.close();
  await drive(s.clock, lanes, { stepMs: 1 });
  assert.deepStrictEqual(s.rest.writesOf(it.id), [`PUT ${ROLE.high}`]);
  assert.equal(s.tracker.finished.get(it.id), "skipped.left_guild");
  assert.deepStrictEqual(s.failures, []);
});

Deno.test("chunk writer: a role call that fails for a while fails the chunk, the member stays pending", async () => {
  const s = setup();
  const it = writerItem(1, { add: [ROLE.high], remove: [ROLE.low] }, [], s.clock.now());
  const down = new DiscordHttpError(503, "PUT", "/guilds/:id", "");
  s.rest.refuse.set(it.id, down);
  const lanes = s.writer.start();
  rolesOnly(s);
  s.writer.assign([it]);
  s.writer.close();
  await drive(s.clock, lanes, { stepMs: 1 });
  assert.deepStrictEqual(s.rest.writesOf(it.id), [`PUT ${ROLE.high}`, `DELETE ${ROLE.low}`]);
  assert.deepStrictEqual(s.failures, [down, down]);
  assert.equal(it.done, false);
  assert.equal(s.tracker.finished.size, 0);
});

Deno.test("chunk writer: with unknown limits the first writers probe alone, then the rest is split", async () => {
  const s = setup();
  assert.equal(s.writer.probing, true);
  const now = s.clock.now();
  const writers = [
    writerItem(1, { add: [ROLE.mid] }, [], now),
    writerItem(2, { add: [ROLE.high], remove: [ROLE.low, ROLE.mid] }, [], now),
    writerItem(3, { add: [ROLE.mid] }, [], now),
    writerItem(4, { add: [ROLE.high], remove: [ROLE.low] }, [], now),
  ];
  // The client learns each write bucket from its probe's answer (the two land close together).
  const answered = (method: string) => s.rest.sent.some((x) => x.method === method);
  s.rest.bucketInfo = (method) =>
    !answered(method)
      ? null
      : method === "PATCH"
      ? { limit: 5, windowMs: 1000 }
      : { limit: 4, windowMs: 2000 };
  const lanes = s.writer.start();
  const probing = s.writer.probe(writers);
  await drive(s.clock, probing, { stepMs: 1 });
  // The member with the most changes went by PATCH, one with a single change by role call.
  assert.deepStrictEqual(s.rest.writesOf(uid(2)), ["PATCH"]);
  assert.deepStrictEqual(s.rest.writesOf(uid(1)), [`PUT ${ROLE.mid}`]);
  assert.deepStrictEqual(writers.map((w) => w.id), [uid(3), uid(4)], "the rest is left to split");
  assert.equal(s.rest.sent.length, 2);
  assert.equal(s.writer.probing, false);
  assert.equal(s.writer.callsPlanned, 2);
  // The probes' answers taught the real limits, which the rest is planned with.
  assert.deepStrictEqual([s.writer.rates.patch, s.writer.rates.role], [5, 2]);
  s.writer.assign(writers);
  s.writer.close();
  await drive(s.clock, lanes, { stepMs: 1 });
  assert.deepStrictEqual([...s.tracker.finished.values()], [
    "changed",
    "changed",
    "changed",
    "changed",
  ]);
  const logged = s.log.lines.filter((l) =>
    l.msg === "sync: adopting the bucket limit Discord reported"
  );
  assert.deepStrictEqual(logged.map((l) => [l.lane, l.limit, l.windowMs]), [
    ["patch", 5, 1000],
    ["role", 4, 2000],
  ]);
});

Deno.test("chunk writer: limits learned before plan the first page", async () => {
  const s = setup();
  const asked: string[] = [];
  s.rest.learnedLimits = (method, path) => {
    asked.push(`${method} ${path}`);
    return Promise.resolve(method === "PATCH" ? { limit: 3, windowMs: 1500 } : null);
  };
  await s.writer.loadLimits();
  assert.deepStrictEqual(asked, [
    `PATCH /guilds/${GUILD}/members/100000000000000000`,
    `PUT /guilds/${GUILD}/members/100000000000000000/roles/100000000000000000`,
  ]);
  assert.equal(s.writer.rates.patch, 2);
  assert.equal(s.writer.rates.role, 10, "still SYNC_ROLE_LIMIT");
  assert.equal(s.writer.probing, true, "the role bucket is still unknown");
  // A client that cannot tell (or fails to) leaves the configured rates.
  const t = setup();
  t.rest.learnedLimits = () => Promise.reject(new Error("KV down"));
  await t.writer.loadLimits();
  assert.deepStrictEqual([t.writer.rates.patch, t.writer.rates.role, t.writer.probing], [
    10,
    10,
    true,
  ]);
  // Both learned: nothing left to probe.
  const u = setup();
  u.rest.learnedLimits = () => Promise.resolve({ limit: 5, windowMs: 1000 });
  await u.writer.loadLimits();
  assert.deepStrictEqual([u.writer.rates.patch, u.writer.rates.role, u.writer.probing], [
    5,
    5,
    false,
  ]);
});

Deno.test("chunk writer: the global share paces the lanes when several guilds sync at once", () => {
  const s = setup();
  let share = 50;
  s.rest.globalShare = () => share;
  s.writer.start();
  s.writer.learnLimits(true);
  assert.equal(s.writer.rates.global, 50);
  share = 12;
  s.writer.learnLimits();
  assert.equal(s.writer.rates.global, 50, "asked at most every 200 ms");
  s.clock.advance(200);
  s.writer.learnLimits();
  assert.equal(s.writer.rates.global, 12);
  // Never more than the configured limit, and a small wobble is not worth a change.
  share = 500;
  s.writer.learnLimits(true);
  assert.equal(s.writer.rates.global, 50);
  share = 47;
  s.writer.learnLimits(true);
  assert.equal(s.writer.rates.global, 50);
  s.stop.abort();
  s.writer.close();
});

Deno.test("chunk writer: queued work is measured in seconds at the lanes' rates", () => {
  const s = setup();
  s.writer.start();
  assert.equal(s.writer.backlogSeconds(), 0);
  const now = s.clock.now();
  s.writer.assign(
    Array.from(
      { length: 20 },
      (_, i) => writerItem(i + 1, { add: [ROLE.high], remove: [ROLE.low, ROLE.mid] }, [], now),
    ),
  );
  // 20 three-change members over two lanes at 10/s each: about a second of work, not two.
  const backlog = s.writer.backlogSeconds();
  assert.ok(backlog > 0.5 && backlog <= 2, `${backlog} s`);
  s.stop.abort();
  s.writer.close();
});

Deno.test("chunk writer: once the chunk's I/O is cut short, a failed write decides nothing", async () => {
  const s = setup();
  const it = writerItem(1, { add: [ROLE.high], remove: [ROLE.low, ROLE.mid] }, [], s.clock.now());
  s.rest.refuse.set(it.id, new DiscordHttpError(0, "PATCH", "/guilds/:id", "aborted"));
  s.job.abortHard();
  await s.run([it]);
  assert.equal(s.rest.writesOf(it.id).length, 1);
  assert.deepStrictEqual(s.failures, [], "the chunk is ending anyway: no failure of its own");
  assert.equal(it.done, false, "nor an outcome: the next chunk redoes the member");
});

Deno.test("chunk writer: a dry run runs no lanes", async () => {
  const s = setup({ dryRun: true });
  await s.writer.start();
  assert.equal(s.rest.sent.length, 0);
});
