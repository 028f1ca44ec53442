import assert from "node:assert/strict";
import { diffSnapshots, diffSummary } from "../../lib/backup/diff.ts";
import type { Snapshot } from "../../lib/backup/model.ts";
import { sampleSnapshot } from "./_sample.ts";

function edit(s: Snapshot, f: (x: Snapshot) => void): Snapshot {
  const copy = structuredClone(s);
  f(copy);
  return copy;
}

Deno.test("diff: identical snapshots", () => {
  const s = sampleSnapshot();
  const d = diffSnapshots(s, structuredClone(s));
  assert.deepStrictEqual(d.identical, true);
  assert.deepStrictEqual(diffSummary(d), ["No differences."]);
});

Deno.test("diff: roles, channels, overwrites, settings and member roles added, removed, changed", () => {
  const a = sampleSnapshot();
  const b = edit(a, (x) => {
    x.roles = x.roles.filter((r) => r.name !== "Members");
    x.roles.push({ ...x.roles[1], id: "300000000000000009", name: "New" });
    x.roles.find((r) => r.name === "Mods")!.permissions = "8";
    x.channels[0].topic = "changed";
    x.channels[0].permission_overwrites = [
      { id: "300000000000000002", type: 0, allow: "3072", deny: "0" },
      { id: "900000000000000002", type: 1, allow: "1024", deny: "0" },
    ];
    x.channels.push({ ...x.channels[1], id: "400000000000000009", name: "Voice", type: 4 });
    x.guild.verification_level = 3;
    x.members = [
      { id: "900000000000000002", roles: ["300000000000000002", "300000000000000009"] },
      { id: "900000000000000005", roles: [] },
    ];
  });
  const d = diffSnapshots(a, b);
  assert.deepStrictEqual(d.identical, false);
  assert.deepStrictEqual(d.settings, [{ field: "verification_level", from: 1, to: 3 }]);
  assert.deepStrictEqual(d.roles.added.map((r) => r.name), ["New"]);
  assert.deepStrictEqual(d.roles.removed.map((r) => r.name), ["Members"]);
  assert.deepStrictEqual(d.roles.changed, [{
    id: "300000000000000002",
    name: "Mods",
    fields: [{ field: "permissions", from: "0", to: "8" }],
  }]);
  assert.deepStrictEqual(d.channels.added.map((c) => c.name), ["Voice"]);
  assert.deepStrictEqual(d.channels.changed[0].fields, [{
    field: "topic",
    from: "hi",
    to: "changed",
  }]);
  assert.deepStrictEqual(d.overwrites.added.map((o) => o.targetName), [
    "member 900000000000000002",
  ]);
  assert.deepStrictEqual(d.overwrites.removed.map((o) => o.targetName), ["@everyone"]);
  assert.deepStrictEqual(d.overwrites.changed.map((o) => [o.targetName, o.from.allow, o.allow]), [
    ["Mods", "1024", "3072"],
  ]);
  assert.deepStrictEqual(d.members.joined, 1);
  assert.deepStrictEqual(d.members.left, 1);
  assert.deepStrictEqual(d.members.changed, [{
    id: "900000000000000002",
    added: ["300000000000000009"],
    removed: ["300000000000000001"],
  }]);
  assert.deepStrictEqual(diffSummary(d), [
    "Settings: verification_level changed",
    "Roles: +1 added, -1 removed, ~1 changed",
    "Channels: +1 added, -0 removed, ~1 changed",
    "Overwrites: +1 added, -1 removed, ~1 changed",
    "Member roles: 1 members changed (+1 / -1 roles), 1 joined, 1 left",
  ]);
});

Deno.test("diff: lists are cut at the limit, totals stay exact; members can be left out", () => {
  const a = sampleSnapshot();
  const b = edit(a, (x) => {
    for (let i = 0; i < 30; i++) {
      x.roles.push({ ...x.roles[1], id: String(310000000000000000n + BigInt(i)), name: `r${i}` });
    }
  });
  const d = diffSnapshots(a, b, { limit: 5, membersCompared: false });
  assert.deepStrictEqual(d.roles.added.length, 5);
  assert.deepStrictEqual(d.roles.totals.added, 30);
  assert.deepStrictEqual(d.members.compared, false);
  assert.deepStrictEqual(
    diffSummary(d).at(-1),
    "Member roles: not compared (guild too large to list live)",
  );
});
