/**
 * POST /trigger-sync (bearer token): starts a role sync chunk, or continues the unfinished run.
 * Body `{guildId?, startIndex?, chunkSize?, dryRun?, mode?}` (guildId defaults to
 * DISCORD_GUILD_ID; self-chained continuations send `{runId, chunk}` and find their guild by the
 * run). 202 with the run id, chunk and status URL; `?wait=true` holds the request until
 * the chunk ends and returns its result. 409 with the current status while a chunk runs.
 */
import { requestedGuild } from "../lib/deps.ts";
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { parseBody } from "../lib/http/json_body.ts";
import type { Handler } from "hono";
import {
  type SyncChunkOutput,
  SyncConfigError,
  SyncDisabledError,
  syncRunGuild,
  triggerSync,
} from "../lib/sync/service.ts";
import { SNOWFLAKE } from "../lib/discord/snowflake.ts";

const bodySchema = z.object({
  guildId: z.string().regex(SNOWFLAKE, "must be a Discord id").optional(),
  startIndex: z.number().int().min(0).max(100_000_000).optional(),
  chunkSize: z.number().int().min(1).max(1_000_000).optional(),
  dryRun: z.boolean().optional(),
  mode: z.enum(["full", "incremental"]).optional(),
  runId: z.string().min(1).max(64).optional(),
  chunk: z.number().int().min(1).optional(),
}).strict();

export function triggerSyncRoute(app: App): Handler {
  return async (c) => {
    const parsed = await parseBody(c, bodySchema);
    if (!parsed.ok) return parsed.res;
    const { guildId: requested, ...input } = parsed.value;
    const guildId = input.runId
      ? await syncRunGuild(app.deps, input.runId) ?? requested ?? requestedGuild(app.deps)
      : requested ?? requestedGuild(app.deps);
    if (!guildId) return c.json({ error: "no guild: send guildId or set DISCORD_GUILD_ID" }, 400);
    const wait = c.req.query("wait") === "true";
    let result;
    try {
      result = await triggerSync(app.deps, guildId, {
        ...input,
        source: input.runId ? "continue" : "http",
      });
    } catch (error) {
      if (error instanceof SyncConfigError) return c.json({ error: error.message }, 400);
      if (error instanceof SyncDisabledError) return c.json({ error: error.message }, 403);
      throw error;
    }
    if (result.status === "conflict") {
      return c.json({ error: result.reason, status: result.progress }, 409);
    }
    if (result.status === "noop") {
      return c.json({ started: false, message: result.reason, status: result.progress });
    }
    const head = {
      started: true,
      runId: result.run.runId,
      chunk: result.run.chunk,
      guildId,
      statusUrl: "/sync-status",
    };
    if (!wait) {
      app.deps.waitUntil(result.done);
      return c.json({ ...head, status: result.progress }, 202);
    }
    const done = await result.done;
    const output = done.result as SyncChunkOutput | undefined;
    return c.json({
      ...head,
      state: done.state,
      processedInChunk: done.processedInChunk,
      stopReason: done.stopReason,
      status: done.progress,
      ...(output?.planned ? { planned: output.planned } : {}),
      stats: output?.stats,
    });
  };
}
