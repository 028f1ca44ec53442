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
import { z } from "zod";
import type { App } from "../lib/app.ts";
import type { Router } from "../lib/http/router.ts";
import type { Handler, RouteContext } from "../lib/http/router.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { readJson } from "../lib/http/body.ts";
import { httpError, json } from "../lib/http/response.ts";
import { tryAppendAudit } from "../lib/audit/mod.ts";
import {
  BackupBusyError,
  BackupDisabledError,
  backupGuildId,
  continueJob,
  jobStatus,
  startCapture,
  startRestore,
  stopJob,
} from "../lib/backup/service.ts";
import {
  BACKUP_ID,
  BackupCorruptError,
  BackupLimitError,
  BackupNotFoundError,
  BackupPinnedError,
  deleteBackup,
  listBackups,
  NOTE_MAX,
  requireBackup,
  setNote,
  setPinned,
  verifyBackup,
} from "../lib/backup/store.ts";
import { RESTORE_PARTS } from "../lib/backup/restore_plan.ts";
import { backupView, diffBackup, exportBackup, verifyExportLink } from "../lib/backup/views.ts";

const OPERATOR = { id: "operator", name: "HTTP operator" };
const snowflake = /^\d{17,20}$/;

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

type Guarded = (req: Request, ctx: RouteContext, guildId: string) => Promise<Response>;

/** Bearer check, guild resolution and the error mapping every operator route shares. */
function operator(app: App, handler: Guarded): Handler {
  return async (req, ctx) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const requested = ctx.url.searchParams.get("guild");
    if (requested !== null && !snowflake.test(requested)) {
      return httpError(400, "guild must be a Discord id");
    }
    const guildId = backupGuildId(app.deps, requested);
    if (!guildId) return httpError(400, "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID");
    const id = ctx.params.id;
    if (id !== undefined && !BACKUP_ID.test(id)) return httpError(404, `no backup with id ${id}`);
    try {
      return await handler(req, ctx, guildId);
    } catch (error) {
      return mapError(error);
    }
  };
}

function mapError(error: unknown): Response {
  if (error instanceof BackupNotFoundError) return httpError(404, error.message);
  if (error instanceof BackupDisabledError) return httpError(403, error.message);
  if (error instanceof BackupPinnedError) return httpError(409, error.message, { pinned: true });
  if (error instanceof BackupBusyError) {
    return httpError(409, error.message, { status: error.progress });
  }
  if (error instanceof BackupCorruptError) return httpError(422, error.message);
  if (error instanceof BackupLimitError) {
    const retry = error.retryAfterMs ? Math.ceil(error.retryAfterMs / 1000) : undefined;
    const res = httpError(error.kind === "cooldown" ? 429 : 409, error.message, {
      limit: error.kind,
      ...(retry ? { retryAfterSeconds: retry } : {}),
    });
    if (retry) res.headers.set("retry-after", String(retry));
    return res;
  }
  throw error;
}

async function body<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; res: Response }> {
  const raw = await readJson(req);
  if (!raw.ok) return { ok: false, res: httpError(raw.status, raw.error) };
  const parsed = schema.safeParse(raw.value);
  if (!parsed.success) {
    return {
      ok: false,
      res: httpError(400, "invalid body", {
        issues: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`),
      }),
    };
  }
  return { ok: true, value: parsed.data };
}

const noStore = { "cache-control": "no-store" };

export function registerBackupRoutes(router: Router, app: App): void {
  const deps = app.deps;
  router
    .on(
      "GET",
      "/backups",
      operator(app, async (_req, _ctx, guildId) => {
        return json({ guildId, backups: await listBackups(deps.kv, guildId) }, 200, noStore);
      }),
    )
    .on(
      "POST",
      "/backups",
      operator(app, async (req, _ctx, guildId) => {
        const b = await body(req, createBody);
        if (!b.ok) return b.res;
        const r = await startCapture(deps, guildId, {
          label: b.value.label,
          authorId: OPERATOR.id,
          authorName: OPERATOR.name,
          source: "http",
          chunkSize: b.value.chunkSize,
        });
        if (r.status !== "started") {
          return httpError(409, r.reason, { status: r.progress });
        }
        deps.waitUntil(r.start.done);
        return json({
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
      operator(app, async (_req, ctx, guildId) => {
        const job = ctx.url.searchParams.get("job") ?? "capture";
        if (job !== "capture" && job !== "restore") {
          return httpError(400, "job must be capture or restore");
        }
        return json(await jobStatus(deps, guildId, job), 200, noStore);
      }),
    )
    .on(
      "POST",
      "/backups/jobs/:job/stop",
      operator(app, async (_req, ctx, guildId) => {
        const job = ctx.params.job;
        if (job !== "capture" && job !== "restore") return httpError(404, "no such job");
        const r = await stopJob(deps, guildId, job, "operator");
        await tryAppendAudit(deps, {
          guildId,
          actor: OPERATOR,
          action: `backup.${job}.stop`,
          detail: { result: r.status },
        });
        return json({
          status: r.status,
          ...("reason" in r ? { message: r.reason } : {}),
          progress: r.progress,
        });
      }),
    )
    .on("POST", "/backups/jobs/capture/continue", continueRoute(app, "capture"))
    .on("POST", "/backups/jobs/restore/continue", continueRoute(app, "restore"))
    .on("GET", "/backups/download/:guild/:id", async (_req, ctx) => {
      const guildId = ctx.params.guild ?? "";
      const id = ctx.params.id ?? "";
      const exp = Number(ctx.url.searchParams.get("exp"));
      const sig = ctx.url.searchParams.get("sig") ?? "";
      if (!snowflake.test(guildId) || !BACKUP_ID.test(id)) return httpError(404, "not found");
      const check = await verifyExportLink(app.keys.export, deps.clock, guildId, id, exp, sig);
      if (!check.ok) return httpError(check.status, check.error);
      try {
        return await exportResponse(app, guildId, id, { id: "link", name: "signed link" });
      } catch (error) {
        return mapError(error);
      }
    })
    .on(
      "GET",
      "/backups/:id",
      operator(app, async (_req, ctx, guildId) => {
        return json(await backupView(deps, guildId, ctx.params.id!), 200, noStore);
      }),
    )
    .on(
      "DELETE",
      "/backups/:id",
      operator(app, async (_req, ctx, guildId) => {
        const meta = await deleteBackup(deps.kv, guildId, ctx.params.id!);
        await tryAppendAudit(deps, {
          guildId,
          actor: OPERATOR,
          action: "backup.delete",
          detail: { backupId: meta.id, label: meta.label },
        });
        return json({ deleted: true, backup: meta });
      }),
    )
    .on(
      "GET",
      "/backups/:id/verify",
      operator(app, async (_req, ctx, guildId) => {
        const result = await verifyBackup(deps.kv, guildId, ctx.params.id!);
        await tryAppendAudit(deps, {
          guildId,
          actor: OPERATOR,
          action: "backup.verify",
          detail: { backupId: result.backupId, ok: result.ok, detail: result.detail },
        });
        return json(result, 200, noStore);
      }),
    )
    .on(
      "GET",
      "/backups/:id/diff",
      operator(app, async (_req, ctx, guildId) => {
        const against = ctx.url.searchParams.get("against") ?? "live";
        if (against !== "live" && !BACKUP_ID.test(against)) {
          return httpError(400, "against must be a backup id or live");
        }
        const limit = Number(ctx.url.searchParams.get("limit") ?? 1000);
        return json(
          await diffBackup(deps, guildId, ctx.params.id!, against, {
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
      operator(app, async (req, ctx, guildId) => {
        const b = await body(req, restoreBody);
        if (!b.ok) return b.res;
        const r = await startRestore(deps, guildId, {
          backupId: ctx.params.id!,
          parts: b.value.only,
          rewind: b.value.rewind,
          actorId: OPERATOR.id,
          actorName: OPERATOR.name,
          source: "http",
          chunkSize: b.value.chunkSize,
        });
        if (r.status !== "started") return httpError(409, r.reason, { status: r.progress });
        deps.waitUntil(r.start.done);
        return json({
          started: true,
          guildId,
          backupId: ctx.params.id,
          runId: r.runId,
          statusUrl: `/backups/status?job=restore&guild=${guildId}`,
        }, 202);
      }),
    )
    .on(
      "GET",
      "/backups/:id/export",
      operator(app, async (_req, ctx, guildId) => {
        return await exportResponse(app, guildId, ctx.params.id!, OPERATOR);
      }),
    )
    .on(
      "POST",
      "/backups/:id/pin",
      operator(app, async (req, ctx, guildId) => {
        const b = await body(req, pinBody);
        if (!b.ok) return b.res;
        const meta = await setPinned(deps.kv, guildId, ctx.params.id!, b.value.pinned);
        await tryAppendAudit(deps, {
          guildId,
          actor: OPERATOR,
          action: b.value.pinned ? "backup.pin" : "backup.unpin",
          detail: { backupId: meta.id },
        });
        return json({ backup: meta });
      }),
    )
    .on(
      "POST",
      "/backups/:id/note",
      operator(app, async (req, ctx, guildId) => {
        const b = await body(req, noteBody);
        if (!b.ok) return b.res;
        const meta = await setNote(deps.kv, guildId, ctx.params.id!, b.value.note);
        await tryAppendAudit(deps, {
          guildId,
          actor: OPERATOR,
          action: "backup.note",
          detail: { backupId: meta.id, note: meta.note },
        });
        return json({ backup: meta });
      }),
    );
}

function continueRoute(app: App, kind: "capture" | "restore"): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const b = await body(req, continueBody);
    if (!b.ok) return b.res;
    const r = await continueJob(app.deps, kind, b.value);
    if (!r) return json({ started: false, message: "no such run" });
    if (r.status === "conflict") return httpError(409, r.reason, { status: r.progress });
    if (r.status === "noop") return json({ started: false, message: r.reason });
    app.deps.waitUntil(r.done);
    return json({ started: true, runId: r.run.runId, chunk: r.run.chunk }, 202);
  };
}

async function exportResponse(
  app: App,
  guildId: string,
  backupId: string,
  actor: { id: string; name: string },
): Promise<Response> {
  await requireBackup(app.deps.kv, guildId, backupId);
  const { bytes, filename } = await exportBackup(app.deps, guildId, backupId);
  await tryAppendAudit(app.deps, {
    guildId,
    actor,
    action: "backup.export",
    detail: { backupId, bytes: bytes.length },
  });
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
    },
  });
}
