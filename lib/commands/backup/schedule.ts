/**
 * /backup schedule enable|disable|status: a backup every few hours, when the next and the last
 * ran, and the retention that applies to what it makes.
 */
import { group, sub } from "../../interactions/define.ts";
import { opt } from "../../interactions/options.ts";
import { getFlags } from "../../ops/flags.ts";
import { BackupDisabledError, backupsOn } from "../../backup/preflight.ts";
import { getSchedule, MAX_HOURS, MIN_HOURS, setSchedule } from "../../backup/schedule.ts";
import { described, t } from "../../i18n/mod.ts";
import { audit, n, rel } from "./common.ts";

export const scheduleGroup = group(described("cmd.backup.schedule.description"), {
  enable: sub({
    ...described("cmd.backup.schedule.enable.description"),
    options: {
      hours: opt.integer({
        ...described("cmd.backup.schedule.enable.hours", { min: MIN_HOURS, max: MAX_HOURS }),
        required: true,
        minValue: MIN_HOURS,
        maxValue: MAX_HOURS,
      }),
    },
    handler: async (ctx) => {
      const lang = ctx.language;
      // One read of the flags for both: backups at all, and the scheduled ones.
      const flags = await getFlags(ctx.deps.kv, ctx.guildId!);
      try {
        backupsOn(ctx.guildId!, flags);
      } catch (error) {
        if (error instanceof BackupDisabledError) return ctx.ephemeral(t(lang, "backup.disabled"));
        throw error;
      }
      const s = await setSchedule(
        ctx.deps.kv,
        ctx.guildId!,
        {
          enabled: true,
          hours: ctx.options.hours,
        },
        ctx.user.id,
        ctx.deps.clock.now(),
      );
      await audit(ctx, "backup.schedule.enable", { hours: s.hours });
      const off = !flags.scheduled_backups;
      return ctx.ephemeral(
        t(lang, "backup.schedule_enabled", { hours: n(lang, s.hours), when: rel(s.nextAt) }) +
          (off ? `\n${t(lang, "backup.schedule_feature_off")}` : ""),
      );
    },
  }),
  disable: sub({
    ...described("cmd.backup.schedule.disable.description"),
    handler: async (ctx) => {
      await setSchedule(
        ctx.deps.kv,
        ctx.guildId!,
        { enabled: false },
        ctx.user.id,
        ctx.deps.clock.now(),
      );
      await audit(ctx, "backup.schedule.disable", {});
      return ctx.ephemeral(t(ctx.language, "backup.schedule_disabled"));
    },
  }),
  status: sub({
    ...described("cmd.backup.schedule.status.description"),
    handler: async (ctx) => {
      const lang = ctx.language;
      const s = await getSchedule(ctx.deps.kv, ctx.guildId!);
      if (!s || !s.enabled) return ctx.ephemeral(t(lang, "backup.schedule_off"));
      const days = ctx.deps.config.backup.retentionDays;
      // The last result is the scheduler's record ("created …", "skipped: …"), as kept.
      const lines = [
        t(lang, "backup.schedule_status", { hours: n(lang, s.hours), when: rel(s.nextAt) }),
        s.lastRunAt
          ? t(lang, "backup.schedule_last", {
            when: rel(s.lastRunAt),
            result: s.lastResult ?? t(lang, "backup.schedule_started"),
          })
          : t(lang, "backup.schedule_never"),
        t(lang, "backup.retention", {
          retention: days
            ? t(lang, "backup.retention_days", { days: n(lang, days) })
            : t(lang, "backup.retention_forever"),
        }),
      ];
      return ctx.ephemeral(lines.join("\n"));
    },
  }),
});
