/** lib/privacy/mod.ts: every privacy source, deletable ones first, in the order /privacy shows. */
import assert from "node:assert/strict";
import { deleteMemberData, privacySources, viewMemberData } from "../../lib/privacy/mod.ts";
import * as inventory from "../../lib/privacy/inventory.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";

const tokenKeys = async () => ({
  current: await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]),
});

Deno.test("privacySources: every source once, in the order /privacy shows them", async () => {
  assert.deepEqual(privacySources(await tokenKeys()).map((s) => s.name), [
    "Cached Ethos score",
    "Cached Ethos profile",
    "Command cooldowns",
    "Interaction records",
    "Ethos linked role connection",
    "Role sync index (validator and human roles)",
    "Role sync member index and score-change queue",
    "Last role sync run (its summary sample)",
    "Audit log entries",
    "Server backups",
    "This server's Ethos setup",
  ]);
});

Deno.test("privacySources: what a member cannot delete says why it is kept", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const sources = privacySources(await tokenKeys());
    const reports = await viewMemberData(
      deps,
      "200000000000000001",
      "300000000000000001",
      sources,
    );
    for (const [i, source] of sources.entries()) {
      assert.equal(reports[i].name, source.name);
      assert.equal(
        reports[i].keptBecause !== undefined,
        source.delete === undefined,
        `${source.name}: a reason exactly when it cannot be deleted`,
      );
    }
  }));

Deno.test("privacy/mod: the view and delete are inventory's", () => {
  assert.equal(viewMemberData, inventory.viewMemberData);
  assert.equal(deleteMemberData, inventory.deleteMemberData);
});
