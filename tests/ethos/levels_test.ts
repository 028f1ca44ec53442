/** lib/ethos/levels.ts: Ethos's level table, the score boundaries and the bot's colours. */
import assert from "node:assert/strict";
import { isLevel, LEVEL_COLORS, levelIndex, levelOfScore, LEVELS } from "../../lib/ethos/levels.ts";

Deno.test("levelOfScore: each level starts at its minimum, the score below is the level before", () => {
  for (let i = 1; i < LEVELS.length; i++) {
    const [name, min] = LEVELS[i];
    assert.equal(levelOfScore(min), name);
    assert.equal(levelOfScore(min - 1), LEVELS[i - 1][0]);
    assert.equal(levelOfScore(min - 0.5), LEVELS[i - 1][0], "fractions do not round up");
  }
});

Deno.test("levelOfScore: the ends of the table", () => {
  assert.equal(levelOfScore(0), "untrusted");
  assert.equal(levelOfScore(-5), "untrusted");
  assert.equal(levelOfScore(799), "untrusted");
  assert.equal(levelOfScore(1200), "neutral");
  assert.equal(levelOfScore(2599), "revered");
  assert.equal(levelOfScore(2600), "renowned");
  assert.equal(levelOfScore(100_000), "renowned");
});

Deno.test("isLevel: only the API's level strings", () => {
  for (const [name] of LEVELS) assert.equal(isLevel(name), true);
  for (const bad of ["Neutral", "NEUTRAL", "", "toString", "legendary", 3, null, undefined, {}]) {
    assert.equal(isLevel(bad), false, String(bad));
  }
});

Deno.test("levelIndex: 0 for untrusted up to 9 for renowned, in table order", () => {
  assert.equal(levelIndex("untrusted"), 0);
  assert.equal(levelIndex("neutral"), 2);
  assert.equal(levelIndex("renowned"), 9);
  assert.deepEqual(LEVELS.map(([name]) => levelIndex(name)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("LEVEL_COLORS: one distinct RGB colour per level, none black (Discord's 'no colour')", () => {
  const colours = LEVELS.map(([name]) => LEVEL_COLORS[name]);
  assert.deepEqual(Object.keys(LEVEL_COLORS).sort(), LEVELS.map(([n]) => n).sort());
  assert.equal(new Set(colours).size, LEVELS.length);
  for (const c of colours) assert.ok(Number.isInteger(c) && c > 0 && c <= 0xffffff, String(c));
});
