/**
 * Following a run (lib/cli/sync_follow.ts) against a scripted SyncApi: which chunks it starts,
 * what it prints, and its exit code.
 */
import assert from "node:assert/strict";
import {
  complete,
  completeAll,
  type FollowIO,
  newRunBody,
  type RunOptions,
} from "../../lib/cli/sync_follow.ts";
import { type Status, type SyncApi, SyncCliError, type Trigger } from "../../lib/cli/sync_api.ts";
import { idleProgress } from "../../lib/jobs/progress.ts";

const OPTS: RunOptions = { dryRun: false, pollMs: 1 };

const status = (over: Partial<Status>): Status => ({
  ...idleProgress("sync", "g"),
  runId: "r1",
  ...over,
});

/** An API whose statuses come from `next` (called per status read) and whose triggers start. */
function fakeApi(next: (guild: string | undefined, triggers: number) => Status) {
  const bodies: Record<string, unknown>[] = [];
  const api: SyncApi = {
    status: (guild) => Promise.resolve(next(guild, bodies.length)),
    trigger: (body): Promise<Trigger> => {
      bodies.push(body);
      return Promise.resolve({ kind: "started", runId: "r1", chunk: bodies.length });
    },
    stop: () => Promise.resolve({}),
    guilds: () => Promise.resolve([]),
    statusLink: () => Promise.resolve({ url: "", expiresAt: "" }),
  };
  return { api, bodies };
}

function screen(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  const io: FollowIO = {
    isTTY,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    write: (t) => written.push(t),
    sleep: () => Promise.resolve(),
  };
  return { io, out, err, written };
}

Deno.test("follow: the body of a new run", () => {
  assert.deepEqual(newRunBody(OPTS), {});
  assert.deepEqual(newRunBody({ ...OPTS, chunkSize: 5, startIndex: 7 }), {
    chunkSize: 5,
    startIndex: 7,
  });
  // A dry run never continues a run that writes.
  assert.deepEqual(newRunBody({ ...OPTS, dryRun: true }), { startIndex: 0, dryRun: true });
});

Deno.test("follow: a new run, chunk after chunk, to completion (exit 0)", async () => {
  const { api, bodies } = fakeApi((_, n) =>
    n === 0
      ? status({ runId: null, state: "idle" })
      : status({ state: n < 3 ? "waiting" : "completed", chunk: n })
  );
  const s = screen();
  assert.equal(await complete({ ...OPTS, chunkSize: 9 }, api, s.io), 0);
  assert.deepEqual(bodies, [
    { chunkSize: 9 },
    { runId: "r1", chunk: 2, chunkSize: 9 },
    { runId: "r1", chunk: 3, chunkSize: 9 },
  ]);
  assert.equal(s.out[0], "started chunk 1 of run r1");
  assert.match(s.out.at(-1)!, /^run r1 completed: completed/);
  assert.deepEqual(s.written, [], "plain lines when not a terminal");
});

Deno.test("follow: a run whose chunk died is continued; a terminal gets a redrawn bar", async () => {
  const { api, bodies } = fakeApi((_, n) =>
    n === 0
      ? status({ state: "running", chunk: 4, nextIndex: 40, lease: null })
      : status({ state: "completed", chunk: 5 })
  );
  const s = screen(true);
  assert.equal(await complete(OPTS, api, s.io), 0);
  assert.deepEqual(bodies, [{ runId: "r1", chunk: 5 }]);
  assert.equal(s.out[0], "continuing run r1 from index 40 (its chunk died)");
  assert.ok(s.written[0].startsWith("\r\x1b[2K["), s.written[0]);
  assert.equal(s.written.at(-1), "\n");
});

Deno.test("follow: a failed or stopped run exits 1 with what to do", async () => {
  const failed = fakeApi((_, n) =>
    n === 0 ? status({ state: "idle" }) : status({ state: "failed", lastError: "no perms" })
  );
  const s = screen();
  assert.equal(await complete(OPTS, failed.api, s.io), 1);
  assert.equal(s.err[0], "run r1 failed: no perms");
  const stopped = fakeApi((_, n) =>
    n === 0 ? status({ state: "idle" }) : status({ state: "stopped", nextIndex: 12 })
  );
  const t = screen();
  assert.equal(await complete(OPTS, stopped.api, t.io), 1);
  assert.match(t.err[0], /was stopped at index 12/);
});

Deno.test("follow: a refused new run is thrown; every guild side by side", async () => {
  const refusing: SyncApi = {
    ...fakeApi(() => status({ state: "idle" })).api,
    trigger: () => Promise.resolve({ kind: "conflict", reason: "guild not set up" }),
  };
  await assert.rejects(
    complete(OPTS, refusing, screen().io),
    (e) => e instanceof SyncCliError && e.message === "the bot refused: guild not set up",
  );

  const { api } = fakeApi((guild, n) =>
    n === 0 ? status({ state: "idle" }) : status({ state: "completed", key: guild! })
  );
  api.guilds = () =>
    Promise.resolve([
      { guildId: "1", configured: true },
      { guildId: "2", configured: false },
    ]);
  const s = screen(true);
  assert.equal(await completeAll(OPTS, api, s.io), 0);
  assert.deepEqual(s.written, [], "no bars when several guilds share the screen");
  assert.ok(s.out.some((l) => l.startsWith("[1] [####")), "plain progress lines instead");
  assert.ok(s.out.includes("[2] not set up yet (run /ethos_setup there); skipped"));
  assert.ok(s.out.some((l) => l.startsWith("[1] run r1 completed")), s.out.join("\n"));
  assert.equal(s.out.at(-1), "every guild completed");
  const none = screen();
  api.guilds = () => Promise.resolve([]);
  assert.equal(await completeAll(OPTS, api, none.io), 1);
  assert.match(none.err[0], /no guild is set up/);
});
