/**
 * The member index: a full run's ranges answer member (with roles), absent or unknown; a finished
 * run replaces the generation before; other writers' notes keep it true; age and changed rules
 * make it unknown.
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import {
  INDEX_MAX_AGE_MS,
  INDEX_RANGE,
  IndexBuilder,
  indexKeys,
  lookupMembers,
  type Noted,
  noteMembers,
  rolesKeyOf,
} from "../../lib/sync/member_index.ts";

const G = "200000000000000001";
const TIER = "210000000000000001";
const OTHER_TIER = "210000000000000002";
const VERIFIED = "210000000000000009";
const UNMANAGED = "219999999999999999";
const RELEVANT = new Set([TIER, OTHER_TIER, VERIFIED]);
const KEY = rolesKeyOf(RELEVANT);
/** Ids of different lengths: the index must order them as numbers, not as strings. */
const id = (n: number) => String(90000000000000000n + BigInt(n) * 1_000_000_000_000n);

async function build(kv: Deno.Kv, gen: string, ids: string[], finished: boolean, now = 1_000) {
  const b = new IndexBuilder(kv, G, gen, RELEVANT, "0");
  for (const [i, u] of ids.entries()) {
    b.add(u, i % 5 === 4 ? null : [VERIFIED, TIER, UNMANAGED]);
  }
  await b.end(finished, now);
}

Deno.test("member index: members, absent ids and unknown roles, across ranges", () =>
  withKv(async (kv) => {
    // Every other id is a member; 2,500 members make three ranges.
    const members = Array.from({ length: 2_500 }, (_, i) => id(2 * i + 1));
    await build(kv, "run-1", members, true);
    let entries = 0;
    for await (const _ of kv.list({ prefix: indexKeys.gen(G, "run-1") })) entries++;
    assert.deepStrictEqual(entries, Math.ceil(2_500 / INDEX_RANGE) + 1); // + the range up to 2^64
    const ask = [id(1), id(2), id(9), id(4_997), id(5_000), id(10), "1"];
    const found = await lookupMembers(kv, G, ask, KEY, 2_000);
    assert.deepStrictEqual(found.get(id(1)), { state: "member", roles: [VERIFIED, TIER] });
    assert.deepStrictEqual(found.get(id(2)), { state: "absent" });
    assert.deepStrictEqual(found.get(id(9)), { state: "unknown" }); // its roles were unknown to the run
    assert.deepStrictEqual(found.get(id(4_997)), { state: "member", roles: [VERIFIED, TIER] });
    assert.deepStrictEqual(found.get(id(5_000)), { state: "absent" }); // past the last member
    assert.deepStrictEqual(found.get(id(10)), { state: "absent" });
    assert.deepStrictEqual(found.get("1"), { state: "absent" }); // before the first
    // Unfinished: only what the run covered is known.
    await build(kv, "run-2", members.slice(0, 10), false);
    const mid = await lookupMembers(kv, G, [id(1), id(4_997)], KEY, 2_000);
    assert.deepStrictEqual(mid.get(id(1)), { state: "member", roles: [VERIFIED, TIER] });
    assert.deepStrictEqual(mid.get(id(4_997)), { state: "member", roles: [VERIFIED, TIER] }); // run-1's
  }));

Deno.test("member index: a finished run replaces the last generation; old or other rules are unknown", () =>
  withKv(async (kv) => {
    await build(kv, "run-1", [id(1), id(2)], true);
    await build(kv, "run-2", [id(2), id(3)], true, 5_000);
    for await (const e of kv.list({ prefix: indexKeys.of(G) })) {
      assert.deepStrictEqual(e.key[2], "run-2");
    }
    const now = await lookupMembers(kv, G, [id(1), id(3)], KEY, 6_000);
    assert.deepStrictEqual(now.get(id(1)), { state: "absent" });
    assert.deepStrictEqual(now.get(id(3))?.state, "member");
    const old = await lookupMembers(kv, G, [id(3)], KEY, 5_000 + INDEX_MAX_AGE_MS + 1);
    assert.deepStrictEqual(old.get(id(3)), { state: "unknown" });
    const otherRules = await lookupMembers(kv, G, [id(3)], rolesKeyOf(new Set([TIER])), 6_000);
    assert.deepStrictEqual(otherRules.get(id(3)), { state: "unknown" });
  }));

Deno.test("member index: notes from other writers change roles and remove departed members", () =>
  withKv(async (kv) => {
    await build(kv, "run-1", [id(1), id(2), id(3)], true);
    await noteMembers(
      kv,
      G,
      new Map<string, Noted>([[id(1), [VERIFIED, OTHER_TIER]], [id(2), "absent"], [
        id(7),
        [VERIFIED],
      ]]),
      KEY,
    );
    const found = await lookupMembers(kv, G, [id(1), id(2), id(3), id(7)], KEY, 2_000);
    assert.deepStrictEqual(found.get(id(1)), { state: "member", roles: [VERIFIED, OTHER_TIER] });
    assert.deepStrictEqual(found.get(id(2)), { state: "absent" });
    assert.deepStrictEqual(found.get(id(3)), { state: "member", roles: [VERIFIED, TIER] });
    // An id the run did not see stays absent: a note never invents a member.
    assert.deepStrictEqual(found.get(id(7)), { state: "absent" });
  }));

Deno.test("member index: no index at all is unknown for everyone", () =>
  withKv(async (kv) => {
    const found = await lookupMembers(kv, G, [id(1)], KEY, 1_000);
    assert.deepStrictEqual(found.get(id(1)), { state: "unknown" });
  }));
