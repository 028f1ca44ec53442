/** What the /backup command's parts share: colours, times, sizes, audit, errors, the id option and buttons. */
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
import { isEnabled } from "../../ops/flags.ts";
import { type Actor, tryAppendAudit } from "../../audit/mod.ts";
import { BackupBusyError, BackupDisabledError } from "../../backup/service.ts";
import {
  BACKUP_ID,
  BackupCorruptError,
  BackupLimitError,
  BackupNotFoundError,
  BackupPinnedError,
  listBackups,
} from "../../backup/store.ts";
import {
  described,
  formatCount,
  formatNumber,
  isMessageKey,
  type Language,
  type MessageKey,
  t,
  translateReason,
} from "../../i18n/mod.ts";

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
 * A refusal message for the errors the backup layer throws, else rethrows. Their messages are the
 * store's English sentences (also logged and returned by the HTTP API), rendered in the language.
 */
export function explain(error: unknown, language: Language): string {
  if (
    error instanceof BackupNotFoundError || error instanceof BackupPinnedError ||
    error instanceof BackupCorruptError || error instanceof BackupDisabledError ||
    error instanceof BackupBusyError || error instanceof BackupLimitError ||
    error instanceof RangeError
  ) return capitalise(translateReason(language, error.message)) + ".";
  throw error;
}

export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const n = (language: Language, v: number) => formatCount(language, v);

/** A job's state in one word of the language. */
export function stateWord(state: string, language: Language): string {
  const key = `job.state.${state}`;
  return isMessageKey(key) ? t(language, key) : state;
}

export async function enabled(ctx: InteractionContext): Promise<boolean> {
  return ctx.guildId !== undefined && await isEnabled(ctx.deps.kv, ctx.guildId, "backups");
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
