/**
 * lib/sync/holders.ts: the index of members holding a validator or human role per guild: which
 * roles count, recording holds and releases in commits of at most 500, and paging in id order.
 */
import assert from "node:assert/strict";
import {
  flagRoles,
  holderKey,
  holdersOf,
  listHolders,
  recordHolders,
} from "../../lib/sync/holders.ts";
import { instrumentAtomics, listAll, withKv } from "../kv/_kv.ts";

const G = "200000000000000001";
const H = "200000000000000002";
const id = (n: number) => String(300000000000000000n + BigInt(n));

Deno.test("flagRoles: validator, human and every tier's variants; nothing else", () => {
  assert.deepEqual(
    [...flagRoles({
      verifiedRoleId: "1",
      validatorRoleId: "2",
      humanRoleId: "3",
      profileRoleId: "4",
      tiers: [
        { name: "A", minScore: 2000, roleId: "5", validatorRoleId: "6", humanValidatorRoleId: "7" },
        { name: "B", minScore: 1000, roleId: "8", humanRoleId: "9" },
        { name: "C", minScore: 0, roleId: "10", humanRoleId: "3" },
      ],
    })].sort(),
    ["2", "3", "6", "7", "9"],
  );
  assert.deepEqual([...flagRoles({ verifiedRoleId: null, tiers: [] })], []);
});

Deno.test("recordHolders: holds are set, releases deleted, per guild", () =>
  withKv(async (kv) => {
    await recordHolders(kv, G, [{ userId: id(1), holds: true }, { userId: id(2), holds: true }]);
    await recordHolders(kv, H, [{ userId: id(1), holds: true }]);
    await recordHolders(kv, G, [{ userId: id(1), holds: false }, { userId: id(3), holds: false }]);
    assert.deepEqual((await listAll(kv, holdersOf(G))).map((e) => e.key), [holderKey(G, id(2))]);
    assert.deepEqual((await listAll(kv, holdersOf(H))).map((e) => e.key), [holderKey(H, id(1))]);
  }));

Deno.test("recordHolders: many changes go in commits of at most 500; none when none", () =>
  withKv(async (raw) => {
    const { kv, commits } = instrumentAtomics(raw);
    await recordHolders(kv, G, []);
    assert.equal(commits.length, 0);
    const changes = Array.from({ length: 1_201 }, (_, i) => ({ userId: id(i), holds: true }));
    await recordHolders(kv, G, changes);
    assert.deepEqual(commits.map((c) => c.mutations), [500, 500, 201]);
    assert.equal((await listAll(raw, holdersOf(G))).length, 1_201);
  }));

Deno.test("listHolders: pages in id order after the given id, exclusive", () =>
  withKv(async (kv) => {
    await recordHolders(kv, G, [5, 1, 3, 4, 2].map((n) => ({ userId: id(n), holds: true })));
    await recordHolders(kv, H, [{ userId: id(9), holds: true }]);
    assert.deepEqual(await listHolders(kv, G, null, 2), [id(1), id(2)]);
    assert.deepEqual(await listHolders(kv, G, id(2), 2), [id(3), id(4)]);
    assert.deepEqual(await listHolders(kv, G, id(4), 10), [id(5)]);
    assert.deepEqual(await listHolders(kv, G, id(5), 10), [], "nothing after the last");
    assert.deepEqual(await listHolders(kv, G, id(0), 10), [1, 2, 3, 4, 5].map(id), "not held");
    assert.deepEqual(await listHolders(kv, "200000000000000003", null, 10), []);
  }));
