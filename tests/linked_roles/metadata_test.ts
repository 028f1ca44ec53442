/** The linked-role records and a user's values, as Discord will compare them. */
import assert from "node:assert/strict";
import {
  METADATA_KEYS,
  METADATA_RECORDS,
  metadataOf,
  recordsFingerprint,
} from "../../lib/linked_roles/metadata.ts";

Deno.test("linked-role records: the four keys, within Discord's limits", async () => {
  assert.deepStrictEqual(METADATA_RECORDS.map((r) => r.key), [...METADATA_KEYS]);
  for (const r of METADATA_RECORDS) {
    assert.ok(/^[a-z0-9_]{1,50}$/.test(r.key));
    assert.ok(r.name.length >= 1 && r.name.length <= 100);
    assert.ok(r.description.length >= 1 && r.description.length <= 200);
    for (const v of Object.values(r.description_localizations ?? {})) assert.ok(v!.length <= 200);
  }
  assert.deepStrictEqual(
    await recordsFingerprint(),
    await recordsFingerprint([...METADATA_RECORDS]),
  );
  const changed = [{ ...METADATA_RECORDS[0], name: "Other" }, ...METADATA_RECORDS.slice(1)];
  assert.ok(await recordsFingerprint(changed) !== await recordsFingerprint());
});

Deno.test("linked-role values: score clamped, level 0-9 (the API's level wins), booleans 1/0", () => {
  assert.deepStrictEqual(metadataOf(null), { score: "0", level: "0", validator: "0", human: "0" });
  assert.deepStrictEqual(metadataOf({ score: 1412.6, validator: true, human: false }), {
    score: "1413",
    level: "3",
    validator: "1",
    human: "0",
  });
  assert.deepStrictEqual(metadataOf({ score: 3000, validator: false, human: true }).score, "2800");
  assert.deepStrictEqual(metadataOf({ score: 3000, validator: false, human: true }).level, "9");
  assert.deepStrictEqual(
    metadataOf({ score: 1500, level: "reputable", validator: false, human: false }).level,
    "5",
  );
});
