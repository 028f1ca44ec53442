/**
 * /backups: the operator HTTP API for guild backups (bearer SYNC_AUTH_TOKEN, constant-time
 * compare, fail closed), and the signed download link of exports. The guild is `?guild=<id>`,
 * else DISCORD_GUILD_ID.
 *
 *   GET    /backups                       list (newest first)
 *   POST   /backups                       {label?, chunkSize?} start a capture (202)
 *   GET    /backups/status?job=capture|restore   progress (the shape every view reads) + report
 *   GET    /backups/:id                   view: index entry and counts
 *   GET    /backups/:id/verify            {ok, expected, actual, detail}
 *   GET    /backups/:id/diff?against=B|live
 *   POST   /backups/:id/restore           {only?: [roles|categories|channels|members|settings],
 *                                          rewind?, chunkSize?} start a restore (202)
 *   GET    /backups/:id/export            the backup as a JSON download
 *   POST   /backups/:id/pin               {pinned}
 *   POST   /backups/:id/note              {note} (500 characters; "" clears)
 *   DELETE /backups/:id                   (pinned: 409)
 *   POST   /backups/jobs/capture|restore/stop    stop the running job after its current write
 *   POST   /backups/jobs/capture/continue {runId, chunk}  self-chained chunks (lib/jobs)
 *   POST   /backups/jobs/restore/continue {runId, chunk}
 *   GET    /backups/download/:guild/:id?exp=&sig=        signed, expiring export link (no bearer)
 */
import { requestedGuild } from "../lib/deps.ts";
import { z } from "zod";
import type { App } from "../lib/app.ts";
import type { Context, Handler, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { parseBody } from "../lib/http/json_body.ts";
import { requestedGuildOf } from "../lib/http/requested_guild.ts";
import { isSnowflake } from "../lib/discord/snowflake.ts";
import type { Routes } from "./mod.ts";
import {
  BackupBusyError,
  BackupDisabledError,
  continueJob,
  jobStatus,
  startCapture,
  startRestore,
} from "../lib/backup/service.ts";
import {
  BACKUP_ID,
  BackupCorruptError,
  BackupLimitError,
  BackupNotFoundError,
  BackupPinnedError,
  listBackups,
  NOTE_MAX,
} from "../lib/backup/store.ts";
import { RESTORE_PARTS } from "../lib/backup/restore_plan.ts";
import {
  checkBackup,
  downloadBackup,
  noteBackup,
  pinBackup,
  removeBackup,
  stopBackupJob,
} from "../lib/backup/actions.ts";
import { backupView, diffBackup, verifyExportLink } from "../lib/backup/views.ts";

const OPERATOR = { id: "operator", name: "HTTP operator" };

const createBody = z.object({
  label: z.string().max(100).optional(),
  chunkSize: z.number().int().min(1).max(1_000_000).optional(),
}).strict();
const restoreBody = z.object({
  only: z.array(z.enum(RESTORE_PARTS)).min(1).optional(),
  rewind: z.boolean().optional(),
  chunkSize: z.number().int().min(1).max(1_000_000).optional(),
}).strict();
const continueBody = z.object({
  runId: z.string().min(1).max(64),
  chunk: z.number().int().min(1).optional(),
}).strict();
const pinBody = z.object({ pinned: z.boolean() }).strict();
const noteBody = z.object({ note: z.string().max(NOTE_MAX) }).strict();

type Guarded = (c: Context, guildId: string) => Promise<Response>;

/** Guild resolution and the error mapping every operator route shares (the bearer is checked
 * before, in routes/mod.ts). */
function operator(app: App, handler: Guarded): Handler {
  return async (c) => {
    const guildId = requestedGuildOf(c, requestedGuild(app.deps));
    if (guildId instanceof Response) return guildId;
    const id = c.req.param("id");
    if (id !== undefined && !BACKUP_ID.test(id)) {
      return c.json({ error: `no backup with id ${id}` }, 404);
    }
    try {
      return await handler(c, guildId);
    } catch (error) {
      return mapError(c, error);
    }
  };
}

function mapError(c: Context, error: unknown): Response {
  if (error instanceof BackupNotFoundError) return c.json({ error: error.message }, 404);
  if (error instanceof BackupDisabledError) return c.json({ error: error.message }, 403);
  if (error instanceof BackupPinnedError) {
    return c.json({ error: error.message, pinned: true }, 409);
  }
  if (error instanceof BackupBusyError) {
    return c.json({ error: error.message, status: error.progress }, 409);
  }
  if (error instanceof BackupCorruptError) return c.json({ error: error.message }, 422);
  if (error instanceof BackupLimitError) {
    const retry = error.retryAfterMs ? Math.ceil(error.retryAfterMs / 1000) : undefined;
    return c.json(
      { error: error.message, limit: error.kind, ...(retry ? { retryAfterSeconds: retry } : {}) },
      error.kind === "cooldown" ? 429 : 409,
      retry ? { "retry-after": String(retry) } : {},
    );
  }
  throw error;
}

const noStore = { "cache-control": "no-store" };

/** The /backups routes; `bearer` guards all but the signed download, `limit` caps JSON bodies. */
export function registerBackupRoutes(
  routes: Routes,
  app: App,
  bearer: MiddlewareHandler,
  limit: MiddlewareHandler,
): void {
  const deps = app.deps;
  routes
    .on(
      "GET",
      "/backups",
      bearer,
      operator(app, async (c, guildId) => {
        return c.json({ guildId, backups: await listBackups(deps.kv, guildId) }, 200, noStore);
      }),
    )
    .on(
      "POST",
      "/backups",
      bearer,
      limit,
      operator(app, async (c, guildId) => {
        const b = await parseBody(c, createBody);
        if (!b.ok) return b.res;
        const r = await startCapture(deps, guildId, {
          label: b.value.label,
          authorId: OPERATOR.id,
          authorName: OPERATOR.name,
          source: "http",
          chunkSize: b.value.chunkSize,
        });
        if (r.status !== "started") {
          return c.json({ error: r.reason, status: r.progress }, 409);
        }
        deps.waitUntil(r.start.done);
        return c.json({
          started: true,
          guildId,
          backupId: r.backupId,
          runId: r.runId,
          statusUrl: `/backups/status?job=capture&guild=${guildId}`,
        }, 202);
      }),
    )
    .on(
      "GET",
      "/backups/status",
      bearer,
      operator(app, async (c, guildId) => {
        const job = c.req.query("job") ?? "capture";
        if (job !== "capture" && job !== "restore") {
          return c.json({ error: "job must be capture or restore" }, 400);
        }
        return c.json(await jobStatus(deps, guildId, job), 200, noStore);
      }),
    )
    .on(
      "POST",
      "/backups/jobs/:job/stop",
      bearer,
      limit,
      operator(app, async (c, guildId) => {
        const job = c.req.param("job");
        if (job !== "capture" && job !== "restore") return c.json({ error: "no such job" }, 404);
        const r = await stopBackupJob(deps, guildId, job, OPERATOR, "operator");
        return c.json({
          status: r.status,
          ...("reason" in r ? { message: r.reason } : {}),
          progress: r.progress,
        });
      }),
    )
    .on("POST", "/backups/jobs/capture/continue", bearer, limit, continueRoute(app, "capture"))
    .on("POST", "/backups/jobs/restore/continue", bearer, limit, continueRoute(app, "restore"))
    .on("GET", "/backups/download/:guild/:id", async (c) => {
      const guildId = c.req.param("guild") ?? "";
      const id = c.req.param("id") ?? "";
      const exp = Number(c.req.query("exp"));
      const sig = c.req.query("sig") ?? "";
      if (!isSnowflake(guildId) || !BACKUP_ID.test(id)) {
        return c.json({ error: "not found" }, 404);
      }
      const check = await verifyExportLink(app.keys.export, deps.clock, guildId, id, exp, sig);
      if (!check.ok) return c.json({ error: check.error }, check.status as ContentfulStatusCode);
      try {
        return await exportResponse(app, guildId, id, { id: "link", name: "signed link" });
      } catch (error) {
        return mapError(c, error);
      }
    })
    .on(
      "GET",
      "/backups/:id",
      bearer,
      operator(app, async (c, guildId) => {
        return c.json(await backupView(deps, guildId, c.req.param("id")!), 200, noStore);
      }),
    )
    .on(
      "DELETE",
      "/backups/:id",
      bearer,
      operator(app, async (c, guildId) => {
        const meta = await removeBackup(deps, guildId, c.req.param("id")!, OPERATOR);
        return c.json({ deleted: true, backup: meta });
      }),
    )
    .on(
      "GET",
      "/backups/:id/verify",
      bearer,
      operator(app, async (c, guildId) => {
        const result = await checkBackup(deps, guildId, c.req.param("id")!, OPERATOR);
        return c.json(result, 200, noStore);
      }),
    )
    .on(
      "GET",
      "/backups/:id/diff",
      bearer,
      operator(app, async (c, guildId) => {
        const against = c.req.query("against") ?? "live";
        if (against !== "live" && !BACKUP_ID.test(against)) {
          return c.json({ error: "against must be a backup id or live" }, 400);
        }
        const limit = Number(c.req.query("limit") ?? 1000);
        return c.json(
          await diffBackup(deps, guildId, c.req.param("id")!, against, {
            limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 100_000) : 1000,
          }),
          200,
          noStore,
        );
      }),
    )
    .on(
      "POST",
      "/backups/:id/restore",
      bearer,
      limit,
      operator(app, async (c, guildId) => {
        const b = await parseBody(c, restoreBody);
        if (!b.ok) return b.res;
        const r = await startRestore(deps, guildId, {
          backupId: c.req.param("id")!,
          parts: b.value.only,
          rewind: b.value.rewind,
          actorId: OPERATOR.id,
          actorName: OPERATOR.name,
          source: "http",
          chunkSize: b.value.chunkSize,
        });
        if (r.status !== "started") return c.json({ error: r.reason, status: r.progress }, 409);
        deps.waitUntil(r.start.done);
        return c.json({
          started: true,
          guildId,
          backupId: c.req.param("id"),
          runId: r.runId,
          statusUrl: `/backups/status?job=restore&guild=${guildId}`,
        }, 202);
      }),
    )
    .on(
      "GET",
      "/backups/:id/export",
      bearer,
      operator(app, async (c, guildId) => {
        return await exportResponse(app, guildId, c.req.param("id")!, OPERATOR);
      }),
    )
    .on(
      "POST",
      "/backups/:id/pin",
      bearer,
      limit,
      operator(app, async (c, guildId) => {
        const b = await parseBody(c, pinBody);
        if (!b.ok) return b.res;
        const meta = await pinBackup(deps, guildId, c.req.param("id")!, b.value.pinned, OPERATOR);
        return c.json({ backup: meta });
      }),
    )
    .on(
      "POST",
      "/backups/:id/note",
      bearer,
      limit,
      operator(app, async (c, guildId) => {
        const b = await parseBody(c, noteBody);
        if (!b.ok) return b.res;
        const meta = await noteBackup(deps, guildId, c.req.param("id")!, b.value.note, OPERATOR);
        return c.json({ backup: meta });
      }),
    );
}

function continueRoute(app: App, kind: "capture" | "restore"): Handler {
  return async (c) => {
    const b = await parseBody(c, continueBody);
    if (!b.ok) return b.res;
    const r = await continueJob(app.deps, kind, b.value);
    if (!r) return c.json({ started: false, message: "no such run" });
    if (r.status === "conflict") return c.json({ error: r.reason, status: r.progress }, 409);
    if (r.status === "noop") return c.json({ started: false, message: r.reason });
    app.deps.waitUntil(r.done);
    return c.json({ started: true, runId: r.run.runId, chunk: r.run.chunk }, 202);
  };
}

async function exportResponse(
  app: App,
  guildId: string,
  backupId: string,
  actor: { id: string; name: string },
): Promise<Response> {
  const { bytes, filename } = await downloadBackup(app.deps, guildId, backupId, actor);
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
    },
  });
}
