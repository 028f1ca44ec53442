import { assertEquals, assertThrows } from "../_assert.ts";
import { ConfigError, testConfig } from "../../lib/config.ts";

Deno.test("sync config: bucket limits and the freshness window", () => {
  const c = testConfig({
    SYNC_PATCH_LIMIT: "10/1s",
    SYNC_ROLE_LIMIT: "5/500ms",
    SYNC_FRESH_MS: "3000",
  });
  assertEquals(c.sync.patchLimit, { limit: 10, windowMs: 1000 });
  assertEquals(c.sync.roleLimit, { limit: 5, windowMs: 500 });
  assertEquals(c.sync.freshMs, 3000);
  for (const bad of ["10", "10/0s", "0/10s", "ten/10s", "10/10m"]) {
    assertThrows(() => testConfig({ SYNC_PATCH_LIMIT: bad }), ConfigError, "SYNC_PATCH_LIMIT");
  }
});
