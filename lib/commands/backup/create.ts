/** /backup create: a capture started now, with its limits and cooldown explained. */
import type { InteractionContext } from "../../interactions/context.ts";
import type { BackupsOn } from "../../backup/preflight.ts";
import { startCapture } from "../../backup/service.ts";
import { requireBackup } from "../../backup/store.ts";
import { t } from "../../i18n/mod.ts";
import { explain } from "../../i18n/reason.ts";
import { escape, n, size } from "./common.ts";

// --- create --------------------------------------------------------------------------------------

/** Starts the capture; `preflight` is the command's own check of the flag, not run again. */
export async function createBackup(
  ctx: InteractionContext,
  label: string | undefined,
  preflight: BackupsOn,
) {
  const { deps, language: lang } = ctx;
  const r = await startCapture(deps, ctx.guildId!, {
    label,
    authorId: ctx.user.id,
    authorName: ctx.user.username,
    source: "command",
    preflight,
  });
  if (r.status !== "started") {
    return t(lang, "backup.could_not_start", { reason: explain(lang, r) });
  }
  const first = await r.start.done;
  if (first.state === "completed") {
    const meta = await requireBackup(deps.kv, ctx.guildId!, r.backupId!);
    return t(lang, "backup.created", {
      id: meta.id,
      label: escape(meta.label),
      members: n(lang, meta.memberCount),
      roles: n(lang, meta.roleCount),
      channels: n(lang, meta.channelCount),
      size: size(meta.sizeCompressed, lang),
    });
  }
  if (first.state === "failed") {
    const { lastError, lastErrorWhy } = first.progress;
    return t(lang, "backup.failed", {
      error: lastError
        ? explain(lang, { reason: lastError, why: lastErrorWhy })
        : t(lang, "backup.unknown_error"),
    });
  }
  const p = first.progress;
  return t(lang, "backup.capturing", {
    id: r.backupId ?? "?",
    count: `${n(lang, p.processed)}${p.total ? `/${n(lang, p.total)}` : ""}`,
  });
}
