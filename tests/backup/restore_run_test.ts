/**
 * lib/backup/restore_run.ts: what every restore phase shares. The report made from a run's
 * counters, which errors mean "stop" rather than "this entity failed", and a chunk's two ways of
 * recording work: a checkpoint, and a write whose failure is counted, described and not retried.
 */
import assert from "node:assert/strict";
import { GUILD, handChunk, restoreCheckpoint } from "./_jobs.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { LeaseLostError } from "../../lib/jobs/job.ts";
import { DiscordApiError, RestClosedError } from "../../lib/discord/errors.ts";
import {
  describe,
  isStopping,
  type RestoreCheckpoint,
  restoreReport,
  RestoreRun,
} from "../../lib/backup/restore_run.ts";

/** A restore of the roles and members of backup bk000001. */
const checkpoint = (o: Partial<RestoreCheckpoint> = {}): RestoreCheckpoint =>
  restoreCheckpoint({ backupId: "bk000001", parts: ["roles", "members"], ...o });

const missingAccess = () =>
  new DiscordApiError(403, 50001, "Missing Access", undefined, "PATCH", "/channels/:id");

Deno.test("restoreReport: the counters split by prefix, zeros dropped, problems kept", () => {
  const report = restoreReport(
    checkpoint({ rewind: true }),
    {
      "created.roles": 2,
      "created.channels": 0,
      "skipped.managed_roles": 1,
      "failed.channels": 1,
      "members.changed": 40,
      "members.roles_added": 55,
      "calls.base": 3,
      created: 9,
    },
    ["moving #staff back: 403 50001 Missing Access"],
  );
  assert.deepStrictEqual(report, {
    backupId: "bk000001",
    parts: ["roles", "members"],
    rewind: true,
    created: { roles: 2 },
    skipped: { managed_roles: 1 },
    failed: { channels: 1 },
    members: { changed: 40, roles_added: 55 },
    problems: ["moving #staff back: 403 50001 Missing Access"],
  });
});

Deno.test("restoreReport: no report from a checkpoint of another shape", () => {
  assert.equal(restoreReport(null, {}, []), null);
  assert.equal(restoreReport({ backupId: "x" }, {}, []), null);
  assert.equal(restoreReport(checkpoint({ parts: ["everything" as never] }), {}, []), null);
});

Deno.test("isStopping: an abort, a lost lease or a closed client; never a failed call", () => {
  assert.equal(isStopping(new DOMException("stop", "AbortError")), true);
  assert.equal(isStopping(new DOMException("late", "TimeoutError")), true);
  assert.equal(isStopping(new LeaseLostError()), true);
  assert.equal(isStopping(new RestClosedError()), true);
  assert.equal(isStopping(missingAccess()), false);
  assert.equal(isStopping(new Error("boom")), false);
  assert.equal(isStopping("stop"), false);
});

Deno.test("describe: Discord's status, code and message; else the error's message or the value", () => {
  assert.equal(describe(missingAccess()), "403 50001 Missing Access");
  assert.equal(describe(new Error("boom")), "boom");
  assert.equal(describe("plain"), "plain");
  assert.equal(describe(42), "42");
});

Deno.test("RestoreRun: the run's checkpoint, guild, parts and the audit-log reason of its writes", () =>
  withKv((kv) => {
    const deps = memoryDeps(kv);
    const run = new RestoreRun(deps, handChunk(checkpoint(), { runId: "run-7" }).ctx);
    assert.equal(run.guildId, GUILD);
    assert.deepStrictEqual(run.cp, checkpoint());
    assert.deepStrictEqual(run.parts, new Set(["roles", "members"]));
    assert.equal(run.reason, "Backup restore bk000001 (run run-7)");
    assert.throws(() => new RestoreRun(deps, handChunk({ backupId: "x" }).ctx));
    return Promise.resolve();
  }));

Deno.test("RestoreRun.save: one checkpoint with the run's checkpoint, counters, warnings and extras", () =>
  withKv(async (kv) => {
    const chunk = handChunk(checkpoint());
    const run = new RestoreRun(memoryDeps(kv), chunk.ctx);
    run.cp.phase = "members";
    await run.save({ "created.roles": 1 }, ["w"], { total: 12 });
    await run.save();
    assert.deepStrictEqual(chunk.updates, [
      {
        checkpoint: checkpoint({ phase: "members" }),
        counters: { "created.roles": 1 },
        warnings: ["w"],
        total: 12,
      },
      { checkpoint: checkpoint({ phase: "members" }), counters: {}, warnings: [] },
    ]);
  }));

Deno.test("RestoreRun.attempt: a write that works records nothing itself", () =>
  withKv(async (kv) => {
    const chunk = handChunk(checkpoint());
    const run = new RestoreRun(memoryDeps(kv), chunk.ctx);
    let wrote = 0;
    assert.equal(
      await run.attempt("role:1", "roles", 'role "A"', () => (wrote++, Promise.resolve())),
      true,
    );
    assert.equal(wrote, 1);
    assert.deepStrictEqual(chunk.updates, []);
    assert.deepStrictEqual(run.cp.failed, []);
  }));

Deno.test("RestoreRun.attempt: a failed write is counted, described and marked not to retry", () =>
  withKv(async (kv) => {
    const chunk = handChunk(checkpoint());
    const run = new RestoreRun(memoryDeps(kv), chunk.ctx);
    const ok = await run.attempt(
      "channel:9",
      "channels",
      "moving #staff back",
      () => Promise.reject(missingAccess()),
    );
    assert.equal(ok, false);
    assert.deepStrictEqual(run.cp.failed, ["channel:9"]);
    assert.deepStrictEqual(chunk.updates, [{
      checkpoint: checkpoint({ failed: ["channel:9"] }),
      counters: { "failed.channels": 1 },
      warnings: ["moving #staff back: 403 50001 Missing Access"],
    }]);
  }));

Deno.test("RestoreRun.attempt: stopping is no failure: it propagates, nothing is marked", () =>
  withKv(async (kv) => {
    const chunk = handChunk(checkpoint());
    const run = new RestoreRun(memoryDeps(kv), chunk.ctx);
    for (const stop of [new LeaseLostError(), new DOMException("x", "AbortError")]) {
      await assert.rejects(
        () => run.attempt("role:1", "roles", "role", () => Promise.reject(stop)),
        (e) => e === stop,
      );
    }
    assert.deepStrictEqual(run.cp.failed, []);
    assert.deepStrictEqual(chunk.updates, []);
  }));
