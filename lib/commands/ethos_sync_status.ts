/**
 * /ethos_sync_status: the role sync's progress as an embed (bar, counts, ETA), read from the
 * run record every view shares, with Refresh and Stop buttons. Anyone may look; Stop needs
 * Manage Roles.
 */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  ButtonStyle,
  ComponentType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import { defineCommand } from "../interactions/define.ts";
import type { InteractionContext } from "../interactions/context.ts";
import type { MessageData } from "../interactions/reply.ts";
import { missingPermissions } from "../interactions/permissions.ts";
import {
  breakdown,
  formatDuration,
  type JobProgress,
  progressBar,
  total,
} from "../jobs/progress.ts";
import { stopSync, syncStatus } from "../sync/service.ts";
import {
  described,
  formatCount,
  formatNumber,
  formatPercent,
  isMessageKey,
  type Language,
  t,
} from "../i18n/mod.ts";
import { explain } from "../i18n/reason.ts";

const COLORS: Record<string, number> = {
  running: 0x1565c0,
  stopping: 0xef6c00,
  waiting: 0x9e9e9e,
  stopped: 0xef6c00,
  completed: 0x2e7d32,
  failed: 0xc62828,
  idle: 0x9e9e9e,
};

const ts = (iso: string | null) => iso ? `<t:${Math.floor(Date.parse(iso) / 1000)}:R>` : "—";

/** A state's sentence, from the catalogue when it has one (an unknown state shows as it is). */
function stateText(state: string, language: Language): string {
  const key = `ethos_sync.state.${state}`;
  return isMessageKey(key) ? t(language, key) : state;
}

/** A skip or error reason of the sync's counters ("left_guild"), in words. */
function counterText(name: string, language: Language): string {
  const key = `ethos_sync.counter.${name}`;
  return isMessageKey(key) ? t(language, key) : name.replaceAll("_", " ");
}

/** The job's remaining time; "unknown" is a word of the language. */
export function eta(seconds: number | null, language: Language): string {
  return seconds === null || !Number.isFinite(seconds)
    ? t(language, "common.unknown")
    : formatDuration(seconds);
}

/** The status embed in the member's language; shared by /ethos_sync and /ethos_sync_stop. */
export function statusEmbed(p: JobProgress, language: Language, note?: string): APIEmbed {
  const n = (v: number) => formatCount(language, v);
  const c = p.counters;
  const skipped = breakdown(c, "skipped");
  const errors = breakdown(c, "errors");
  const pct = p.total ? Math.floor(Math.min(1, p.processed / p.total) * 100) : null;
  const fields: APIEmbed["fields"] = [];
  if (p.runId) {
    const members = p.total !== null
      ? t(language, "ethos_sync.members_of", { processed: n(p.processed), total: n(p.total) })
      : t(language, "ethos_sync.members", { processed: n(p.processed) });
    fields.push(
      {
        name: t(language, "ethos_sync.progress"),
        value: `\`${progressBar(p, 20)}\` ${
          pct !== null ? formatPercent(language, pct / 100) : ""
        }\n${members}`,
      },
      { name: t(language, "ethos_sync.changed"), value: n(c["changed"] ?? 0), inline: true },
      { name: t(language, "ethos_sync.unchanged"), value: n(c["unchanged"] ?? 0), inline: true },
      { name: t(language, "ethos_sync.skipped"), value: n(total(c, "skipped")), inline: true },
      { name: t(language, "ethos_sync.errors"), value: n(total(c, "errors")), inline: true },
      {
        name: t(language, "ethos_sync.chunk"),
        value: t(language, "ethos_sync.chunk_value", { chunk: n(p.chunk), next: n(p.nextIndex) }),
        inline: true,
      },
      {
        name: t(language, "ethos_sync.speed"),
        value: p.ratePerSecond !== null
          ? t(language, "ethos_sync.speed_value", { rate: rate(p.ratePerSecond, language) })
          : "—",
        inline: true,
      },
    );
    if (p.state === "running" || p.state === "waiting") {
      fields.push({
        name: t(language, "ethos_sync.eta"),
        value: eta(p.etaSeconds, language),
        inline: true,
      });
    }
    fields.push({
      name: t(language, "ethos_sync.started_at"),
      value: ts(p.startedAt),
      inline: true,
    });
    fields.push({
      name: t(language, "ethos_sync.updated_at"),
      value: ts(p.updatedAt),
      inline: true,
    });
    const reasons = [
      ...Object.entries(skipped).map(([k, v]) =>
        t(language, "ethos_sync.skipped_reason", { reason: counterText(k, language), count: n(v) })
      ),
      ...Object.entries(errors).map(([k, v]) =>
        t(language, "ethos_sync.error_reason", { reason: counterText(k, language), count: n(v) })
      ),
    ];
    if (reasons.length) {
      fields.push({
        name: t(language, "ethos_sync.details"),
        value: reasons.join("\n").slice(0, 1000),
      });
    }
    if (p.lastError) {
      fields.push({
        name: t(language, "ethos_sync.last_error"),
        value: explain(language, { reason: p.lastError, why: p.lastErrorWhy }).slice(0, 1000),
      });
    }
    if (p.warnings.length) {
      // The setup's warnings name roles and ids; they are shown as the sync wrote them.
      fields.push({
        name: t(language, "ethos_sync.warnings"),
        value: p.warnings.map((w) => `• ${w}`).join("\n").slice(0, 1000),
      });
    }
  }
  const title = [
    t(language, "ethos_sync.title"),
    ...(p.dryRun ? [t(language, "ethos_sync.title_dry")] : []),
    ...(p.mode === "incremental" ? [t(language, "ethos_sync.title_incremental")] : []),
  ].join(" ");
  return {
    title,
    description: [stateText(p.state, language), note].filter(Boolean).join("\n"),
    color: COLORS[p.state],
    fields,
    footer: p.runId ? { text: t(language, "ethos_sync.footer", { run: p.runId }) } : undefined,
  };
}

/** Members per second with one decimal, in the language's notation. */
export function rate(perSecond: number, language: Language): string {
  return formatNumber(language, perSecond, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

async function statusMessage(
  ctx: InteractionContext,
  guildId: string,
  note?: string,
): Promise<MessageData> {
  const p = await syncStatus(ctx.deps, guildId);
  const language = ctx.language;
  const live = p.state === "running" || p.state === "stopping" || p.state === "waiting";
  const buttons: APIActionRowComponent<APIComponentInMessageActionRow> = {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: t(language, "common.refresh"),
        custom_id: await ctx.customId("refresh", guildId),
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Danger,
        label: t(language, "ethos_sync.stop"),
        custom_id: await ctx.customId("stop", guildId),
        disabled: !live || p.state === "stopping",
      },
    ],
  };
  return { embeds: [statusEmbed(p, language, note)], components: [buttons] };
}

export const ethosSyncStatus = defineCommand({
  name: "ethos_sync_status",
  ...described("cmd.ethos_sync_status.description"),
  category: "Role sync",
  publicComponents: true,
  handler: async (ctx) => {
    const guildId = ctx.guildId!;
    return ctx.ephemeral(await statusMessage(ctx, guildId));
  },
  components: {
    refresh: async (ctx) => ctx.update(await statusMessage(ctx, ctx.state)),
    stop: async (ctx) => {
      if (missingPermissions(ctx.permissions, PermissionFlagsBits.ManageRoles) !== 0n) {
        return ctx.ephemeral(t(ctx.language, "ethos_sync.stop_needs_permission"));
      }
      const r = await stopSync(ctx.deps, ctx.state, `user:${ctx.user.id}`);
      const note = r.status === "noop"
        ? t(ctx.language, "ethos_sync.stop_noop_note", {
          reason: explain(ctx.language, r),
        })
        : t(ctx.language, "ethos_sync.stop_requested", { user: ctx.user.id });
      return ctx.update(await statusMessage(ctx, ctx.state, note));
    },
  },
});
