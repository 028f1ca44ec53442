/**
 * /audit (Administrator): this server's audit log, newest first, paged with buttons, and the
 * verification of its hash chain (an edited, removed or inserted entry shows as broken).
 */
import { type APIEmbed, ButtonStyle, ComponentType } from "discord-api-types/v10";
import { defineCommand } from "../interactions/define.ts";
import { opt } from "../interactions/options.ts";
import type { InteractionContext } from "../interactions/context.ts";
import type { MessageData } from "../interactions/reply.ts";
import { type AuditEntry, readAudit, verifyAudit } from "../audit/mod.ts";
import { described, formatCount, type Language, t } from "../i18n/mod.ts";

export const AUDIT_PAGE = 10;

// Actions and their details are the log's own record (`backup.pin`, `backupId=…`): shown as kept.
function describe(e: AuditEntry, language: Language): string {
  const who = e.actor.name ? `${e.actor.name}` : e.actor.id;
  const detail = Object.entries(e.detail).filter(([, v]) => v !== null && v !== undefined)
    .slice(0, 4).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return t(language, "audit.entry", {
    seq: e.seq,
    when: `<t:${Math.floor(e.at / 1000)}:f>`,
    action: e.action,
    who,
  }) + (detail ? `\n  ${detail.slice(0, 180)}` : "");
}

/** One page (0 = newest); the chain is verified on every view. */
async function auditPage(ctx: InteractionContext, page: number): Promise<MessageData> {
  const guildId = ctx.guildId!;
  const lang = ctx.language;
  const check = await verifyAudit(ctx.deps.kv, guildId);
  const head = check.head;
  if (head === 0) return { content: t(lang, "audit.empty") };
  const pages = Math.max(1, Math.ceil(check.count / AUDIT_PAGE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const { entries, first } = await readAudit(ctx.deps.kv, guildId, {
    beforeSeq: head + 1 - p * AUDIT_PAGE,
    limit: AUDIT_PAGE,
  });
  // The verifier's reason names the broken link in its own terms; the sentence is translated.
  const verdict = check.ok
    ? t(lang, "audit.verified", { count: formatCount(lang, check.count) })
    : t(lang, "audit.broken", { seq: check.brokenAt ?? "?", reason: check.reason ?? "" });
  const embed: APIEmbed = {
    title: t(lang, "audit.title"),
    color: check.ok ? 0x2e7d32 : 0xc62828,
    description: [verdict, "", ...entries.map((e) => describe(e, lang))].join("\n").slice(0, 4000),
    footer: {
      text: t(lang, "audit.footer", {
        page: formatCount(lang, p + 1),
        pages: formatCount(lang, pages),
        first,
        head,
      }),
    },
  };
  return {
    embeds: [embed],
    components: [{
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.Button,
          style: ButtonStyle.Secondary,
          label: t(lang, "audit.newer"),
          custom_id: await ctx.customId("page", String(p - 1)),
          disabled: p === 0,
        },
        {
          type: ComponentType.Button,
          style: ButtonStyle.Secondary,
          label: t(lang, "audit.older"),
          custom_id: await ctx.customId("page", String(p + 1)),
          disabled: p >= pages - 1,
        },
      ],
    }],
  };
}

export const audit = defineCommand({
  name: "audit",
  ...described("cmd.audit.description"),
  category: "Backups",
  readOnly: true,
  permissions: ["Administrator"],
  options: {
    page: opt.integer({ ...described("cmd.audit.page"), minValue: 1, maxValue: 100_000 }),
  },
  handler: async (ctx) => ctx.ephemeral(await auditPage(ctx, (ctx.options.page ?? 1) - 1)),
  components: {
    page: async (ctx) => ctx.update(await auditPage(ctx, Number(ctx.state) || 0)),
  },
});
