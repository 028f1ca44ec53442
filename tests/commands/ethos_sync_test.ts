/**
 * lib/commands/ethos_sync.ts: /ethos_sync (Manage Roles), deferred and private, says what it
 * started (a new run, a dry run, the next chunk of an unfinished one, or a restart), that a chunk
 * is already running, or why it cannot start. The chunk itself runs in the background; here it
 * meets the harness's empty fake Discord, which is not what these tests look at.
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { ethosSync } from "../../lib/commands/ethos_sync.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import {
  commandInteraction,
  GUILD_ID,
  rawOptions,
  type TestApp,
  withTestApp,
} from "../_harness.ts";
import { storeRun, syncRun } from "./_sync_run.ts";

const ENV = { VERIFIED_ROLE_ID: "210000000000000001", ETHOS_ROLE_NEUTRAL: "210000000000000002" };
const MOD = { permissions: PermissionFlagsBits.ManageRoles };

async function sync(
  t: TestApp,
  options: Record<string, unknown> = {},
  who: object = MOD,
) {
  t.clock.advance(10_000); // past the cooldown
  const res = await (await t.post(commandInteraction("ethos_sync", rawOptions(options), who)))
    .json();
  await t.settle();
  const edit = t.calls.filter((c) => c.method === "PATCH" && c.path.endsWith("/@original")).at(-1);
  const body = edit?.body as { content?: string; embeds?: { title: string }[] } | string;
  return { res, body: typeof body === "string" ? { content: body } : body };
}

const withApp = (
  fn: (t: TestApp) => Promise<void>,
  env: Record<string, string> = ENV,
): Promise<void> => withTestApp({ commands: [ethosSync], env }, fn);

Deno.test("/ethos_sync: a new run started, privately, with its id and the status embed", () =>
  withApp(async (t) => {
    const { res, body } = await sync(t);
    assert.equal(res.type, 5);
    assert.equal(res.data.flags & 64, 64);
    const m = /^Started run `([\w-]+)`\. Follow it with `\/ethos_sync_status`\.$/.exec(
      body.content!,
    );
    assert.ok(m, body.content);
    assert.equal(body.embeds![0].title, "Ethos role sync");
    assert.ok(t.log.lines.some((l) => l.msg === "sync started from Discord" && l.runId === m![1]));
  }));

Deno.test("/ethos_sync: a dry run says nothing will be changed", () =>
  withApp(async (t) => {
    const { body } = await sync(t, { dry_run: true });
    assert.match(body.content!, /^Started run `[\w-]+` \(dry run: nothing will be changed\)\./);
    assert.equal(body.embeds![0].title, "Ethos role sync (dry run)");
  }));

Deno.test("/ethos_sync: an unfinished run goes on with its next chunk, unless restarted", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now(), { state: "stopped" }));
    const { body } = await sync(t);
    assert.match(body.content!, /^Started chunk 2 of run `run-1`\./);
  }));

Deno.test("/ethos_sync: restart starts a new run instead of continuing", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now(), { state: "stopped" }));
    const { body } = await sync(t, { restart: true });
    assert.match(body.content!, /^Started run `[\w-]+`\./);
    assert.doesNotMatch(body.content!, /run-1/);
  }));

Deno.test("/ethos_sync: a chunk already running is reported with its progress", () =>
  withApp(async (t) => {
    await storeRun(t.deps.kv, syncRun(GUILD_ID, t.clock.now()), true);
    const { body } = await sync(t);
    assert.equal(
      body.content,
      "A sync chunk is already running: running · 50/200 (25%) · changed 10 · unchanged 40 · " +
        "skipped 0 · errors 0 · chunk 1 · 0.4/s · ETA 6m 30s",
    );
    assert.equal(body.embeds!.length, 1);
  }));

Deno.test("/ethos_sync: not set up, or turned off, cannot start, with the reason", () =>
  withApp(async (t) => {
    const bare = await sync(t);
    assert.match(bare.body.content!, /^The role sync cannot start: .+\.$/);
  }, {}));

Deno.test("/ethos_sync: role sync turned off cannot start", () =>
  withApp(async (t) => {
    await setFlag(t.deps.kv, GUILD_ID, "role_sync", false);
    const { body } = await sync(t);
    assert.match(body.content!, /^The role sync cannot start: /);
  }));

Deno.test("/ethos_sync: needs Manage Roles", () =>
  withApp(async (t) => {
    const { res } = await sync(t, {}, { permissions: PermissionFlagsBits.ManageGuild });
    assert.notEqual(res.type, 5, "not started");
    assert.ok(!t.log.lines.some((l) => l.msg === "sync started from Discord"));
  }));
