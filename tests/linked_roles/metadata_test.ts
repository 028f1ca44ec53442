/** The linked-role records and a user's values, as Discord will compare them. */
import { assert, assertEquals } from "../_assert.ts";
import {
  METADATA_KEYS,
  METADATA_RECORDS,
  metadataOf,
  recordsFingerprint,
} from "../../lib/linked_roles/metadata.ts";

Deno.test("linked-role records: the four keys, within Discord's limits", async () => {
  assertEquals(METADATA_RECORDS.map((r) => r.key), [...METADATA_KEYS]);
  for (const r of METADATA_RECORDS) {
    assert(/^[a-z0-9_]{1,50}$/.test(r.key));
    assert(r.name.length >= 1 && r.name.length <= 100);
    assert(r.description.length >= 1 && r.description.length <= 200);
    for (const v of Object.values(r.description_localizations ?? {})) assert(v!.length <= 200);
  }
  assertEquals(await recordsFingerprint(), await recordsFingerprint([...METADATA_RECORDS]));
  const changed = [{ ...METADATA_RECORDS[0], name: "Other" }, ...METADATA_RECORDS.slice(1)];
  assert(await recordsFingerprint(changed) !== await recordsFingerprint());
});

Deno.test("linked-role values: score clamped, level 0-9 (the API's level wins), booleans 1/0", () => {
  assertEquals(metadataOf(null), { score: "0", level: "0", validator: "0", human: "0" });
  assertEquals(metadataOf({ score: 1412.6, validator: true, human: false }), {
    score: "1413",
    level: "3",
    validator: "1",
    human: "0",
  });
  assertEquals(metadataOf({ score: 3000, validator: false, human: true }).score, "2800");
  assertEquals(metadataOf({ score: 3000, validator: false, human: true }).level, "9");
  assertEquals(
    metadataOf({ score: 1500, level: "reputable", validator: false, human: false }).level,
    "5",
  );
});
