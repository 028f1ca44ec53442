import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { countingReads } from "../kv/_reads.ts";
import { memoryDeps } from "../_deps.ts";
import { keys } from "../../lib/kv/keys.ts";
import { setupKey } from "../../lib/guilds/setup.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { startChunk } from "../../lib/jobs/runner.ts";
import { SyncDisabledError, syncServices, triggerSync } from "../../lib/sync/service.ts";
import { t } from "../../lib/i18n/mod.ts";
import {
  explain,
  type Reason,
  reason,
  ReasonError,
  reasonOf,
  reasonText,
} from "../../lib/i18n/reason.ts";

const GUILD = "200000000000000001";
const BOT = "100000000000000002";
const ENV = {
  DISCORD_GUILD_ID: GUILD,
  VERIFIED_ROLE_ID: "400000000000000001",
  ETHOS_ROLE_REPUTABLE: "400000000000000002",
};

/** Discord answering 404 to everything: a chunk fails as soon as it reads the guild. */
const notFound: typeof fetch = () =>
  Promise.resolve(
    new Response(JSON.stringify({ message: "404: Not Found", code: 0 }), {
      status: 404,
      headers: { "content-type": "application/json" },
    }),
  );

/** The KV, counting reads of the guild's feature flags and of its setup (the preflight's reads). */
const countingPreflightReads = (kv: Deno.Kv) =>
  countingReads(kv, { flags: keys.flags(GUILD), setup: setupKey(GUILD) });

Deno.test("sync service: a triggered chunk runs the preflight once, not again inside", async () => {
  await withKv(async (raw) => {
    const { kv, reads } = countingPreflightReads(raw);
    const deps = memoryDeps(kv, { env: ENV, fetch: notFound });
    const r = await triggerSync(deps, GUILD, { source: "command" });
    assert.ok(r.status === "started");
    const done = await r.done;
    assert.equal(done.state, "failed"); // Discord answered 404: the chunk ended after its start
    assert.deepStrictEqual(reads, { flags: 1, setup: 1 });
  });
});

Deno.test("sync service: a chunk nobody checked (self-chain, watchdog) still checks the flag", async () => {
  await withKv(async (raw) => {
    const { kv, reads } = countingPreflightReads(raw);
    const deps = memoryDeps(kv, { env: ENV, fetch: notFound });
    const first = await triggerSync(deps, GUILD, { source: "http" });
    assert.ok(first.status === "started");
    await first.done;
    await setFlag(raw, GUILD, "role_sync", false);
    // A trigger is refused before any chunk starts...
    await assert.rejects(triggerSync(deps, GUILD, { source: "http" }), SyncDisabledError);
    const before = { ...reads };
    // ...and a continuation started as the in-process chain does fails on the flag, checked once.
    const s = syncServices(deps);
    const r = await startChunk(s.env, s.job, {
      key: GUILD,
      runId: first.run.runId,
      chunk: 2,
      source: "continue",
    });
    assert.ok(r.status === "started");
    const done = await r.done;
    assert.equal(done.state, "failed");
    assert.equal(done.progress.lastError, new SyncDisabledError(GUILD).message);
    assert.deepStrictEqual(done.progress.lastErrorWhy, new SyncDisabledError(GUILD).reason);
    assert.deepStrictEqual(
      { flags: reads.flags - before.flags, setup: reads.setup - before.setup },
      { flags: 1, setup: 1 },
    );
  });
});

/** Discord answering `answer(path)` as JSON, or with `missing` (status and body) when it is undefined. */
function discord(
  answer: (path: string) => unknown,
  missing = { status: 404, body: { message: "404: Not Found", code: 0 } },
): typeof fetch {
  return (input) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const body = answer(url.pathname.replace(/^\/api\/v10/, ""));
    return Promise.resolve(
      body === undefined
        ? Response.json(missing.body, { status: missing.status })
        : Response.json(body),
    );
  };
}

/** Starts a chunk and checks that it failed for `why`, stored beside its English text. */
async function assertFails(deps: ReturnType<typeof memoryDeps>, why: Reason): Promise<void> {
  const r = await triggerSync(deps, GUILD, { source: "http" });
  assert.ok(r.status === "started");
  const done = await r.done;
  assert.equal(done.state, "failed");
  assert.equal(done.progress.lastError, reasonText("en", why));
  assert.deepStrictEqual(done.progress.lastErrorWhy, why);
}

Deno.test("sync service: a guild with role sync off is refused with its Reason", async () => {
  await withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: ENV, fetch: notFound });
    await setFlag(kv, GUILD, "role_sync", false);
    const error = await triggerSync(deps, GUILD, { source: "http" }).then(
      () => assert.fail("started"),
      (e) => e,
    );
    assert.ok(error instanceof SyncDisabledError && error instanceof ReasonError);
    assert.equal(error.name, "SyncDisabledError");
    assert.equal(
      error.message,
      `role sync is turned off for server ${GUILD} (feature flag role_sync)`,
    );
    assert.deepStrictEqual(reasonOf(error), reason("reason.sync_disabled", { guild: GUILD }));
    assert.equal(explain("es", error), t("es", "reason.sync_disabled", { guild: GUILD }));
    assert.equal(
      explain("es", error),
      `la sincronización de roles está desactivada en el servidor ${GUILD} (función role_sync)`,
    );
  });
});

Deno.test("sync service: a guild the bot left fails the run with the sync_bot_gone sentence", async () => {
  await withKv(async (kv) => {
    const gone = { status: 404, body: { message: "Unknown Guild", code: 10004 } };
    const deps = memoryDeps(kv, {
      env: ENV,
      fetch: discord((path) => path === "/users/@me" ? { id: BOT } : undefined, gone),
    });
    await assertFails(deps, reason("reason.sync_bot_gone"));
  });
});

Deno.test("sync service: a bot without Manage Roles fails the run with that sentence", async () => {
  await withKv(async (kv) => {
    const deps = memoryDeps(kv, {
      env: ENV,
      fetch: discord((path) => {
        if (path === "/users/@me") return { id: BOT };
        if (path === `/guilds/${GUILD}`) {
          return { id: GUILD, owner_id: "1", approximate_member_count: 3 };
        }
        if (path === `/guilds/${GUILD}/roles`) {
          return [{ id: GUILD, name: "@everyone", position: 0, permissions: "0" }];
        }
        if (path === `/guilds/${GUILD}/members/${BOT}`) return { roles: [] };
      }),
    });
    await assertFails(deps, reason("reason.sync_no_manage_roles"));
  });
});
