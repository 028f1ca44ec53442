/**
 * What the /backup command's parts share: colours, times, sizes, audit, refusals, the backups
 * check, the id option and buttons.
 */
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIComponentInMessageActionRow,
  ButtonStyle,
  ComponentType,
} from "discord-api-types/v10";
import { opt } from "../../interactions/options.ts";
import type {
  AutocompleteContext,
  Choice,
  InteractionContext,
} from "../../interactions/context.ts";
import { type Actor, tryAppendAudit } from "../../audit/mod.ts";
import { BackupDisabledError, backupPreflight, type BackupsOn } from "../../backup/preflight.ts";
import { BACKUP_ID, listBackups } from "../../backup/store.ts";
import {
  described,
  formatCount,
  formatNumber,
  isMessageKey,
  type Language,
  type MessageKey,
  t,
} from "../../i18n/mod.ts";
import { explain, reasonOf } from "../../i18n/reason.ts";

export const LIST_PAGE = 8;
export const COLOR = { ok: 0x2e7d32, warn: 0xef6c00, bad: 0xc62828, info: 0x1565c0 };

export const ts = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;
export const rel = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;

export function size(n: number, language: Language): string {
  const fixed = (v: number, digits: number) =>
    formatNumber(language, v, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: "min2",
    });
  if (n < 1024) return `${formatCount(language, n)} B`;
  if (n < 1024 * 1024) return `${fixed(n / 1024, 1)} KiB`;
  return `${fixed(n / 1024 / 1024, 2)} MiB`;
}

export function actorOf(ctx: InteractionContext): Actor {
  return { id: ctx.user.id, name: ctx.user.username };
}

export function audit(ctx: InteractionContext, action: string, detail: Record<string, unknown>) {
  return tryAppendAudit(ctx.deps, { guildId: ctx.guildId, actor: actorOf(ctx), action, detail });
}

/**
 * A refusal message, as a sentence, for the errors the backup layer throws: each carries its
 * Reason (not found, pinned, corrupt, disabled, busy, a limit, a value out of range), said in the
 * language. Any other error is rethrown.
 */
export function refusalText(error: unknown, language: Language): string {
  if (error instanceof Error && reasonOf(error)) {
    return capitalise(explain(language, error)) + ".";
  }
  throw error;
}

export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const n = (language: Language, v: number) => formatCount(language, v);

/** A job's state in one word of the language. */
export function stateWord(state: string, language: Language): string {
  const key = `job.state.${state}`;
  return isMessageKey(key) ? t(language, key) : state;
}

/**
 * The backups preflight (lib/backup/preflight.ts) for the command's guild: its result, to hand to
 * the start so that the flag is read once, or null when backups are off there.
 */
export async function backupsOn(ctx: InteractionContext): Promise<BackupsOn | null> {
  if (ctx.guildId === undefined) return null;
  try {
    return await backupPreflight(ctx.deps.kv, ctx.guildId);
  } catch (error) {
    if (error instanceof BackupDisabledError) return null;
    throw error;
  }
}

export async function backupChoices(ctx: AutocompleteContext, typed: string): Promise<Choice[]> {
  if (!ctx.guildId) return [];
  const q = typed.toLowerCase();
  return (await listBackups(ctx.deps.kv, ctx.guildId))
    .filter((m) => m.id.includes(q) || m.label.toLowerCase().includes(q))
    .slice(0, 25)
    .map((m) => ({
      name: `${m.pinned ? "📌 " : ""}${m.label.slice(0, 60)} · ${
        new Date(m.createdAt).toISOString().slice(0, 16).replace("T", " ")
      } · ${m.id}`.slice(0, 100),
      value: m.id,
    }));
}

export const idOption = (key: MessageKey = "cmd.backup.id") =>
  opt.string({ ...described(key), required: true, maxLength: 24, autocomplete: backupChoices });

export function checkId(id: string, language: Language): string | null {
  return BACKUP_ID.test(id) ? null : t(language, "backup.bad_id", { id: id.slice(0, 30) });
}

export function button(
  customId: string,
  label: string,
  style: ButtonStyle,
  disabled = false,
): APIButtonComponent {
  return {
    type: ComponentType.Button,
    custom_id: customId,
    label,
    style,
    disabled,
  } as APIButtonComponent;
}

export function row(
  ...components: APIButtonComponent[]
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return { type: ComponentType.ActionRow, components };
}

/** Discord markdown in a user-given text (a label, a name) shown as typed. */
export const escape = (s: string) => s.replace(/([*_`~|>])/g, "\\$1");
