import assert from "node:assert/strict";
import { canonicalBytes, normalizeSnapshot, type Snapshot } from "../../lib/backup/model.ts";
import { sha256Hex } from "../../lib/canonical.ts";
import { sampleSnapshot } from "./_sample.ts";

/** A snapshot's checksum as a backup records it: the SHA-256 of its canonical bytes. */
const checksumOf = (s: Snapshot) => sha256Hex(canonicalBytes(s));

Deno.test("normalised snapshot: every list in id order; the checksum ignores input order", async () => {
  const s = sampleSnapshot();
  const n = normalizeSnapshot(s);
  assert.deepStrictEqual(n.roles.map((r) => r.id), [
    "200000000000000001",
    "300000000000000001",
    "300000000000000002",
  ]);
  assert.deepStrictEqual(n.channels.map((c) => c.id), ["400000000000000001", "400000000000000003"]);
  assert.deepStrictEqual(n.channels[1].permission_overwrites.map((o) => o.id), [
    "200000000000000001",
    "300000000000000002",
  ]);
  assert.deepStrictEqual(n.members.map((m) => m.id), ["90000000000000001", "900000000000000002"]);
  assert.deepStrictEqual(n.members[1].roles, ["300000000000000001", "300000000000000002"]);
  assert.deepStrictEqual(Object.keys(n.bot.commandRoles), ["a", "b"]);

  const shuffled: Snapshot = {
    ...s,
    roles: [...s.roles].reverse(),
    channels: [...s.channels].reverse(),
    members: [...s.members].reverse(),
  };
  assert.deepStrictEqual(await checksumOf(shuffled), await checksumOf(s));
  const changed = { ...s, members: [{ id: "90000000000000001", roles: ["300000000000000001"] }] };
  assert.notDeepStrictEqual(await checksumOf(changed), await checksumOf(s));
});
