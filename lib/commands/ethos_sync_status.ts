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
import { defineCommand } from "./define.ts";
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
import { stopSync, syncGuildId, syncStatus } from "../sync/service.ts";

const COLORS: Record<string, number> = {
  running: 0x1565c0,
  stopping: 0xef6c00,
  waiting: 0x9e9e9e,
  stopped: 0xef6c00,
  completed: 0x2e7d32,
  failed: 0xc62828,
  idle: 0x9e9e9e,
};

const STATE_TEXT: Record<string, string> = {
  idle: "No sync has run yet in this server.",
  running: "Running",
  stopping: "Stopping after the current batch",
  waiting: "Waiting for the next chunk",
  stopped: "Stopped",
  completed: "Completed",
  failed: "Failed",
};

const ts = (iso: string | null) => iso ? `<t:${Math.floor(Date.parse(iso) / 1000)}:R>` : "—";

/** The status embed; shared by /ethos_sync, /ethos_sync_stop and the status page. */
export function statusEmbed(p: JobProgress, note?: string): APIEmbed {
  const c = p.counters;
  const skipped = breakdown(c, "skipped");
  const errors = breakdown(c, "errors");
  const pct = p.total ? Math.floor(Math.min(1, p.processed / p.total) * 100) : null;
  const fields: APIEmbed["fields"] = [];
  if (p.runId) {
    fields.push(
      {
        name: "Progress",
        value: `\`${progressBar(p, 20)}\` ${pct !== null ? `${pct}%` : ""}\n${p.processed}${
          p.total !== null ? ` / ${p.total}` : ""
        } members`,
      },
      { name: "Changed", value: String(c["changed"] ?? 0), inline: true },
      { name: "Unchanged", value: String(c["unchanged"] ?? 0), inline: true },
      { name: "Skipped", value: String(total(c, "skipped")), inline: true },
      { name: "Errors", value: String(total(c, "errors")), inline: true },
      { name: "Chunk", value: `${p.chunk} (next index ${p.nextIndex})`, inline: true },
      {
        name: "Speed",
        value: p.ratePerSecond !== null ? `${p.ratePerSecond.toFixed(1)} members/s` : "—",
        inline: true,
      },
    );
    if (p.state === "running" || p.state === "waiting") {
      fields.push({ name: "ETA", value: formatDuration(p.etaSeconds), inline: true });
    }
    fields.push({ name: "Started", value: ts(p.startedAt), inline: true });
    fields.push({ name: "Updated", value: ts(p.updatedAt), inline: true });
    const reasons = [
      ...Object.entries(skipped).map(([k, v]) => `skipped ${k.replaceAll("_", " ")}: ${v}`),
      ...Object.entries(errors).map(([k, v]) => `error ${k.replaceAll("_", " ")}: ${v}`),
    ];
    if (reasons.length) fields.push({ name: "Details", value: reasons.join("\n").slice(0, 1000) });
    if (p.lastError) fields.push({ name: "Last error", value: p.lastError.slice(0, 1000) });
    if (p.warnings.length) {
      fields.push({
        name: "Warnings",
        value: p.warnings.map((w) => `• ${w}`).join("\n").slice(0, 1000),
      });
    }
  }
  return {
    title: `Ethos role sync${p.dryRun ? " (dry run)" : ""}${
      p.mode === "incremental" ? " (incremental)" : ""
    }`,
    description: [STATE_TEXT[p.state] ?? p.state, note].filter(Boolean).join("\n"),
    color: COLORS[p.state],
    fields,
    footer: p.runId ? { text: `run ${p.runId}` } : undefined,
  };
}

async function statusMessage(
  ctx: InteractionContext,
  guildId: string,
  note?: string,
): Promise<MessageData> {
  const p = await syncStatus(ctx.deps, guildId);
  const live = p.state === "running" || p.state === "stopping" || p.state === "waiting";
  const buttons: APIActionRowComponent<APIComponentInMessageActionRow> = {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: "Refresh",
        custom_id: await ctx.customId("refresh", guildId),
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Danger,
        label: "Stop",
        custom_id: await ctx.customId("stop", guildId),
        disabled: !live || p.state === "stopping",
      },
    ],
  };
  return { embeds: [statusEmbed(p, note)], components: [buttons] };
}

function guildOf(ctx: InteractionContext): string | null {
  const configured = ctx.deps.config.discord.guildId;
  if (configured && ctx.guildId && ctx.guildId !== configured) return null;
  return syncGuildId(ctx.deps, ctx.guildId) ?? null;
}

export const OTHER_GUILD = "The Ethos role sync is configured for another server.";

export const ethosSyncStatus = defineCommand({
  name: "ethos_sync_status",
  description: "Show the progress of the Ethos role sync",
  category: "Role sync",
  publicComponents: true,
  handler: async (ctx) => {
    const guildId = guildOf(ctx);
    if (!guildId) return ctx.ephemeral(OTHER_GUILD);
    return ctx.ephemeral(await statusMessage(ctx, guildId));
  },
  components: {
    refresh: async (ctx) => ctx.update(await statusMessage(ctx, ctx.state)),
    stop: async (ctx) => {
      if (missingPermissions(ctx.permissions, PermissionFlagsBits.ManageRoles) !== 0n) {
        return ctx.ephemeral("You need the **Manage Roles** permission to stop the sync.");
      }
      const r = await stopSync(ctx.deps, ctx.state, `user:${ctx.user.id}`);
      const note = r.status === "noop"
        ? `Nothing to stop (${r.reason}).`
        : `Stop requested by <@${ctx.user.id}>.`;
      return ctx.update(await statusMessage(ctx, ctx.state, note));
    },
  },
});

export { guildOf as syncGuildOf };
