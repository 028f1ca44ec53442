/**
 * POST /trigger-sync (bearer token): starts a role sync chunk, or continues the unfinished run.
 * Body `{guildId?, startIndex?, chunkSize?, dryRun?, mode?}` (guildId defaults to
 * DISCORD_GUILD_ID; self-chained continuations send `{runId, chunk}` and find their guild by the
 * run). 202 with the run id, chunk and status URL; `?wait=true` holds the request until
 * the chunk ends and returns its result. 409 with the current status while a chunk runs.
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { readJson } from "../lib/http/body.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import {
  type SyncChunkOutput,
  SyncConfigError,
  SyncDisabledError,
  syncGuildId,
  syncRunGuild,
  triggerSync,
} from "../lib/sync/service.ts";

const bodySchema = z.object({
  guildId: z.string().regex(/^\d{17,20}$/, "must be a Discord id").optional(),
  startIndex: z.number().int().min(0).max(100_000_000).optional(),
  chunkSize: z.number().int().min(1).max(1_000_000).optional(),
  dryRun: z.boolean().optional(),
  mode: z.enum(["full", "incremental"]).optional(),
  runId: z.string().min(1).max(64).optional(),
  chunk: z.number().int().min(1).optional(),
}).strict();

export function triggerSyncRoute(app: App): Handler {
  return async (req, { url }) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const body = await readJson(req);
    if (!body.ok) return httpError(body.status, body.error);
    const parsed = bodySchema.safeParse(body.value);
    if (!parsed.success) {
      return httpError(400, "invalid body", {
        issues: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`),
      });
    }
    const { guildId: requested, ...input } = parsed.data;
    const guildId = input.runId
      ? await syncRunGuild(app.deps, input.runId) ?? requested ?? syncGuildId(app.deps)
      : requested ?? syncGuildId(app.deps);
    if (!guildId) return httpError(400, "no guild: send guildId or set DISCORD_GUILD_ID");
    const wait = url.searchParams.get("wait") === "true";
    let result;
    try {
      result = await triggerSync(app.deps, guildId, {
        ...input,
        source: input.runId ? "continue" : "http",
      });
    } catch (error) {
      if (error instanceof SyncConfigError) return httpError(400, error.message);
      if (error instanceof SyncDisabledError) return httpError(403, error.message);
      throw error;
    }
    if (result.status === "conflict") {
      return httpError(409, result.reason, { status: result.progress });
    }
    if (result.status === "noop") {
      return json({ started: false, message: result.reason, status: result.progress });
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
      return json({ ...head, status: result.progress }, 202);
    }
    const done = await result.done;
    const output = done.result as SyncChunkOutput | undefined;
    return json({
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
