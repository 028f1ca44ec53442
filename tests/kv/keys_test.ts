/**
 * lib/kv/keys.ts: the one list of the bot's KV keys. Every key is a valid KV key, and no key of
 * one builder lies under another's unless it is a declared listing prefix of it (so two concerns
 * never read or delete each other's entries).
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import { withKv } from "./_kv.ts";

type Builder = (...args: unknown[]) => Deno.KvKey;

/** How many arguments a builder takes; blob's parts are a rest parameter: give it two. */
const arity = (name: string, f: Builder) => name === "blob" ? 2 : f.length;

/** Each builder called with the same sample arguments, so equal arguments can collide. */
function built(): [string, Deno.KvKey][] {
  const args = ["x1", "x2", "x3", "x4", "x5"];
  return Object.entries(keys).map(([name, f]) => [
    name,
    (f as Builder)(...args.slice(0, arity(name, f as Builder))),
  ]);
}

const isPrefix = (a: Deno.KvKey, b: Deno.KvKey) =>
  a.length <= b.length && a.every((part, i) => part === b[i]);

/** Listing prefix -> the item key it lists, as the modules that list them use them. */
const LISTINGS = [
  "alerts -> alert",
  "auditEntries -> auditEntry",
  "auditHeads -> auditHead",
  "backupGuilds -> backupGuild",
  "backupIndex -> backupMeta",
  "backupSchedules -> backupSchedule",
  "commandRolesOf -> commandRoles",
  "commandsFallbackPrefix -> commandsFallback",
  "commandsLogPrefix -> commandsLog",
  "cooldownsOfUser -> cooldown",
  "idempotencyOfUser -> idempotency",
  "jobHistoryPrefix -> jobHistory",
  "jobPrefix -> jobRun",
  "jobPrefix -> jobStop",
  "jobSeriesOf -> jobSeries",
  "jobSeriesOf -> jobSeriesPrefix",
  "jobSeriesPrefix -> jobSeries",
  "metricsSnapshots -> metricsSnapshot",
];

Deno.test("keys: no key lies under another builder's key except the declared listings", () => {
  const all = built();
  const found: string[] = [];
  for (const [a, ka] of all) {
    for (const [b, kb] of all) if (a !== b && isPrefix(ka, kb)) found.push(`${a} -> ${b}`);
  }
  assert.deepEqual(found.sort(), [...LISTINGS].sort());
});

Deno.test("keys: different arguments give different keys (the arguments are in the key)", () => {
  for (const [name, f] of Object.entries(keys)) {
    const n = arity(name, f as Builder);
    const a = (f as Builder)(...Array.from({ length: n }, (_, i) => `a${i}`));
    const b = (f as Builder)(...Array.from({ length: n }, (_, i) => `b${i}`));
    if (n === 0) assert.deepEqual(a, b, name);
    else {
      assert.notDeepEqual(a, b, name);
      for (let i = 0; i < n; i++) assert.ok(a.includes(`a${i}`), `${name} keeps argument ${i}`);
    }
  }
});

Deno.test("keys: every key is accepted by KV and starts with a string concern", () =>
  withKv(async (kv) => {
    for (const [name, key] of built()) {
      assert.ok(key.length > 0 && typeof key[0] === "string", name);
      await kv.set(key, name);
      assert.equal((await kv.get(key)).value, name);
    }
  }));

Deno.test("keys: a user's records list under one prefix per concern (what /privacy reads)", () => {
  assert.ok(isPrefix(keys.idempotencyOfUser("u1"), keys.idempotency("u1", "i1")));
  assert.ok(!isPrefix(keys.idempotencyOfUser("u2"), keys.idempotency("u1", "i1")));
  assert.ok(isPrefix(keys.cooldownsOfUser("u1"), keys.cooldown("u1", "ethos")));
  assert.ok(!isPrefix(keys.cooldownsOfUser("u1"), keys.cooldown("u10", "ethos")));
});
