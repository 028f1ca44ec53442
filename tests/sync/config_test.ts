import assert from "node:assert/strict";
import { ConfigError } from "../../lib/config.ts";
import { testConfig } from "../_config.ts";

Deno.test("sync config: bucket limits and the freshness window", () => {
  const c = testConfig({
    SYNC_PATCH_LIMIT: "10/1s",
    SYNC_ROLE_LIMIT: "5/500ms",
    SYNC_FRESH_MS: "3000",
  });
  assert.deepStrictEqual(c.sync.patchLimit, { limit: 10, windowMs: 1000 });
  assert.deepStrictEqual(c.sync.roleLimit, { limit: 5, windowMs: 500 });
  assert.deepStrictEqual(c.sync.freshMs, 3000);
  for (const bad of ["10", "10/0s", "0/10s", "ten/10s", "10/10m"]) {
    assert.throws(
      () => testConfig({ SYNC_PATCH_LIMIT: bad }),
      (e) => e instanceof ConfigError && e.message.includes("SYNC_PATCH_LIMIT"),
    );
  }
});
