/**
 * lib/interactions/registry.ts: the registry of the command definitions, refused as a whole when
 * the manifest has problems, and the component and modal routes found only among the definitions'
 * own entries.
 */
import assert from "node:assert/strict";
import type { RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import { createRegistry, ManifestError } from "../../lib/interactions/registry.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import type { ComponentHandler, ModalHandler } from "../../lib/interactions/context.ts";

const open: ComponentHandler = (c) => c.update("opened");
const submit: ModalHandler = (c) => c.update("sent");
const alpha = defineCommand({
  name: "alpha",
  description: "A",
  category: "T",
  handler: (c) => c.reply("a"),
  components: { open },
  modals: { submit },
});
const beta = defineCommand({
  name: "beta",
  description: "B",
  category: "T",
  handler: (c) => c.reply("b"),
});

const valid = () => [];

Deno.test("registry: commands by name and the manifest in definition order", () => {
  const seen: RESTPostAPIApplicationCommandsJSONBody[][] = [];
  const r = createRegistry([beta, alpha], (m) => {
    seen.push(m);
    return [];
  });
  assert.deepEqual(seen, [[beta.json, alpha.json]], "the manifest is what gets validated");
  assert.equal(r.get("alpha"), alpha);
  assert.equal(r.get("gamma"), undefined);
  assert.deepEqual(r.manifest(), [beta.json, alpha.json]);
  assert.deepEqual(r.commands, [beta, alpha]);
});

Deno.test("registry: every problem the check finds is named in one ManifestError", () => {
  assert.throws(
    () => createRegistry([alpha], () => ["name too long", "too many options"]),
    (e: unknown) => {
      assert.ok(e instanceof ManifestError);
      assert.equal(e.name, "ManifestError");
      assert.deepEqual(e.problems, ["name too long", "too many options"]);
      assert.equal(
        e.message,
        "Invalid command manifest:\n  - name too long\n  - too many options",
      );
      return true;
    },
  );
});

Deno.test("registry: component and modal routes are '<command>.<key>' of the definitions", () => {
  const r = createRegistry([alpha, beta], valid);
  assert.deepEqual(r.component("alpha.open"), { command: alpha, handler: open });
  assert.deepEqual(r.modal("alpha.submit"), { command: alpha, handler: submit });
  assert.equal(r.component("alpha.submit"), undefined, "a modal is not a component");
  assert.equal(r.modal("alpha.open"), undefined);
  assert.equal(r.component("beta.open"), undefined, "routes belong to their command");
  assert.equal(r.component("open"), undefined);
});

Deno.test("registry: a route naming an object's inherited property finds nothing", () => {
  const r = createRegistry([alpha, beta], valid);
  for (const route of ["alpha.constructor", "alpha.__proto__", "alpha.toString", "constructor"]) {
    assert.equal(r.component(route), undefined, route);
    assert.equal(r.modal(route), undefined, route);
  }
  assert.equal(r.get("constructor"), undefined);
  assert.equal(r.get("__proto__"), undefined);
});
