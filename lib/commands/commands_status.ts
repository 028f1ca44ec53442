/**
 * /commands_status (Manage Server, ephemeral): the code's manifest fingerprint, the last sync of
 * the target scope, any cooldown, and drift against Discord (asked live, one GET; the last stored
 * check when Discord does not answer in time).
 */
import { defineCommand } from "../interactions/define.ts";
import { manifestEnv } from "../manifest/env.ts";
import { type CommandStatus, commandStatus } from "../manifest/status.ts";
import { summarizeDiff } from "../manifest/diff.ts";
import type { DiffSummary } from "../manifest/types.ts";
import { shortFingerprint } from "../manifest/canonical.ts";
import { described, formatCount, type Language, t } from "../i18n/mod.ts";

const when = (ms: number) => `<t:${Math.floor(ms / 1000)}:f> (<t:${Math.floor(ms / 1000)}:R>)`;

const names = (list: string[], more: number) =>
  list.map((n) => `\`/${n}\``).join(", ") + (more > list.length ? ` +${more - list.length}` : "");

/** "1 added, 2 changed" or "in sync", in the language. */
function describeCounts(s: DiffSummary, language: Language): string {
  const n = (v: number) => formatCount(language, v);
  const parts = [
    s.added ? t(language, "commands_status.count_added", { count: n(s.added) }) : "",
    s.removed ? t(language, "commands_status.count_removed", { count: n(s.removed) }) : "",
    s.changed ? t(language, "commands_status.count_changed", { count: n(s.changed) }) : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : t(language, "commands_status.summary_in_sync");
}

/** The status as Discord markdown (under 2,000 characters). */
export function renderCommandStatus(s: CommandStatus, language: Language): string {
  const n = (v: number) => formatCount(language, v);
  const lines = [
    t(language, "commands_status.title", { scope: s.scope }),
    t(language, "commands_status.fingerprint", {
      fingerprint: shortFingerprint(s.fingerprint),
      count: n(s.commands),
    }),
  ];
  if (s.synced) {
    const same = s.synced.fingerprint === s.fingerprint;
    lines.push(
      t(language, "commands_status.last_sync", {
        when: when(s.synced.at),
        fingerprint: shortFingerprint(s.synced.fingerprint),
      }) + (same ? "" : ` (${t(language, "commands_status.pending")})`),
    );
  } else {
    lines.push(t(language, "commands_status.never"));
  }
  if (s.lastAttempt) {
    const a = s.lastAttempt;
    // The outcome and trigger are the sync's own terms (as in the CLI and the logs).
    lines.push(
      t(language, "commands_status.last_attempt", {
        when: when(a.at),
        outcome: a.outcome.replace("_", " "),
        trigger: a.trigger,
        calls: n(a.calls),
      }) + (a.error ? `: ${a.error.slice(0, 200)}` : ""),
    );
  }
  if (s.cooldown) {
    lines.push(t(language, "commands_status.cooldown", { when: when(s.cooldown.until) }));
  }
  if (s.live) {
    const summary = summarizeDiff(s.live.diff, 5);
    if (s.live.inSync) {
      lines.push(t(language, "commands_status.in_sync", { count: n(s.live.counts.discord) }));
    } else {
      lines.push(
        t(language, "commands_status.drift", { summary: describeCounts(summary, language) }),
      );
      if (summary.added) {
        lines.push(
          t(language, "commands_status.missing", {
            names: names(summary.names.added, summary.added),
          }),
        );
      }
      if (summary.removed) {
        lines.push(
          t(language, "commands_status.only_discord", {
            names: names(summary.names.removed, summary.removed),
          }),
        );
      }
      if (summary.changed) {
        lines.push(
          t(language, "commands_status.changed", {
            names: names(summary.names.changed, summary.changed),
          }),
        );
      }
      lines.push(t(language, "commands_status.hint"));
    }
  } else {
    const reason = (s.liveError ?? t(language, "commands_status.no_answer")).slice(0, 200);
    lines.push(t(language, "commands_status.not_checked", { reason }));
    if (s.lastCheck) {
      lines.push(
        s.lastCheck.inSync
          ? t(language, "commands_status.last_check_in_sync", { when: when(s.lastCheck.at) })
          : t(language, "commands_status.last_check_drift", {
            when: when(s.lastCheck.at),
            summary: describeCounts(s.lastCheck.summary, language),
          }),
      );
    }
  }
  return lines.join("\n").slice(0, 1_900);
}

export const commandsStatus = defineCommand({
  name: "commands_status",
  ...described("cmd.commands_status.description"),
  category: "Admin",
  permissions: ["ManageGuild"],
  readOnly: true,
  cooldown: { uses: 2, perMs: 10_000 },
  handler: async (ctx) =>
    ctx.ephemeral(renderCommandStatus(await commandStatus(manifestEnv(ctx)), ctx.language)),
});
