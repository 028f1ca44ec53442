/**
 * /ethos_sync (Manage Roles): starts a role sync run (or continues the unfinished one), deferred
 * and ephemeral; the follow-up says which run and chunk started. The run itself goes on in the
 * background, chunk after chunk; /ethos_sync_status follows it.
 */
import { defineCommand } from "../interactions/define.ts";
import { opt } from "../interactions/options.ts";
import { eta, rate, statusEmbed } from "./ethos_sync_status.ts";
import { stateWord } from "./backup/common.ts";
import { SyncConfigError, SyncDisabledError, triggerSync } from "../sync/service.ts";
import { fraction, type JobProgress, total } from "../jobs/progress.ts";
import { described, formatCount, formatPercent, type Language, t } from "../i18n/mod.ts";
import { explain } from "../i18n/reason.ts";

/** The progress in one line (the job runner's summary line, in the member's language). */
function summary(p: JobProgress, language: Language): string {
  const n = (v: number) => formatCount(language, v);
  const pct = fraction(p);
  const parts = [
    stateWord(p.state, language),
    `${n(p.processed)}${p.total !== null ? `/${n(p.total)}` : ""}${
      pct !== null ? ` (${formatPercent(language, Math.floor(pct * 100) / 100)})` : ""
    }`,
    t(language, "ethos_sync.summary_changed", { count: n(p.counters["changed"] ?? 0) }),
    t(language, "ethos_sync.summary_unchanged", { count: n(p.counters["unchanged"] ?? 0) }),
    t(language, "ethos_sync.summary_skipped", { count: n(total(p.counters, "skipped")) }),
    t(language, "ethos_sync.summary_errors", { count: n(total(p.counters, "errors")) }),
    t(language, "ethos_sync.summary_chunk", { chunk: n(p.chunk) }),
  ];
  if (p.ratePerSecond !== null) parts.push(`${rate(p.ratePerSecond, language)}/s`);
  if (p.etaSeconds !== null && p.state === "running") {
    parts.push(t(language, "ethos_sync.summary_eta", { eta: eta(p.etaSeconds, language) }));
  }
  if (p.dryRun) parts.push(t(language, "ethos_sync.summary_dry"));
  return parts.join(" · ");
}

export const ethosSync = defineCommand({
  name: "ethos_sync",
  ...described("cmd.ethos_sync.description"),
  category: "Role sync",
  permissions: ["ManageRoles"],
  options: {
    restart: opt.boolean(described("cmd.ethos_sync.restart")),
    dry_run: opt.boolean(described("cmd.ethos_sync.dry_run")),
  },
  handler: (ctx) => {
    const lang = ctx.language;
    const guildId = ctx.guildId!;
    return ctx.defer(async (f) => {
      let r;
      try {
        r = await triggerSync(ctx.deps, guildId, {
          startIndex: ctx.options.restart || ctx.options.dry_run ? 0 : undefined,
          dryRun: ctx.options.dry_run ?? false,
          source: "command",
        });
      } catch (error) {
        if (error instanceof SyncConfigError || error instanceof SyncDisabledError) {
          await f.editOriginal(
            t(lang, "ethos_sync.cannot_start", { reason: explain(lang, error) }),
          );
          return;
        }
        throw error;
      }
      if (r.status === "started") {
        ctx.deps.waitUntil(r.done);
        ctx.log.info("sync started from Discord", { runId: r.run.runId, by: ctx.user.id });
        const dry = r.run.dryRun ? ` (${t(lang, "ethos_sync.dry_note")})` : "";
        await f.editOriginal({
          content: r.run.chunk > 1
            ? t(lang, "ethos_sync.started_chunk", {
              chunk: formatCount(lang, r.run.chunk),
              run: r.run.runId,
              dry,
            })
            : t(lang, "ethos_sync.started", { run: r.run.runId, dry }),
          embeds: [statusEmbed(r.progress, lang)],
        });
      } else if (r.status === "conflict") {
        await f.editOriginal({
          content: t(lang, "ethos_sync.conflict", { summary: summary(r.progress, lang) }),
          embeds: [statusEmbed(r.progress, lang)],
        });
      } else {
        await f.editOriginal(
          t(lang, "ethos_sync.nothing_started", { reason: explain(lang, r) }),
        );
      }
    }, { ephemeral: true });
  },
});
