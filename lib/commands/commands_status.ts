/**
 * /commands_status (Manage Server, ephemeral): the code's manifest fingerprint, the last sync of
 * the target scope, any cooldown, and drift against Discord (asked live, one GET; the last stored
 * check when Discord does not answer in time).
 */
import { defineCommand } from "./define.ts";
import { manifestEnv } from "../manifest/env.ts";
import { type CommandStatus, commandStatus } from "../manifest/status.ts";
import { describeSummary, summarizeDiff } from "../manifest/diff.ts";
import { shortFingerprint } from "../manifest/canonical.ts";

const when = (ms: number) => `<t:${Math.floor(ms / 1000)}:f> (<t:${Math.floor(ms / 1000)}:R>)`;

const names = (list: string[], more: number) =>
  list.map((n) => `\`/${n}\``).join(", ") + (more > list.length ? ` +${more - list.length}` : "");

/** The status as Discord markdown (under 2,000 characters). */
export function renderCommandStatus(s: CommandStatus): string {
  const lines = [
    `**Command manifest** · scope \`${s.scope}\``,
    `Fingerprint: \`${shortFingerprint(s.fingerprint)}\` (${s.commands} commands)`,
  ];
  if (s.synced) {
    const same = s.synced.fingerprint === s.fingerprint;
    lines.push(
      `Last sync: ${when(s.synced.at)}, fingerprint \`${shortFingerprint(s.synced.fingerprint)}\`` +
        (same ? "" : " (the code has changed since: a sync is pending)"),
    );
  } else {
    lines.push("Last sync: never recorded for this scope");
  }
  if (s.lastAttempt) {
    const a = s.lastAttempt;
    lines.push(
      `Last attempt: ${when(a.at)}: ${
        a.outcome.replace("_", " ")
      } (${a.trigger}, ${a.calls} calls)` +
        (a.error ? `: ${a.error.slice(0, 200)}` : ""),
    );
  }
  if (s.cooldown) {
    lines.push(`Rate-limit cooldown until ${when(s.cooldown.until)}: syncs are skipped until then`);
  }
  if (s.live) {
    const summary = summarizeDiff(s.live.diff, 5);
    if (s.live.inSync) {
      lines.push(`Discord: in sync ✅ (${s.live.counts.discord} registered)`);
    } else {
      lines.push(`Discord: **drift** ⚠️ ${describeSummary(summary)}`);
      if (summary.added) {
        lines.push(`- missing on Discord: ${names(summary.names.added, summary.added)}`);
      }
      if (summary.removed) {
        lines.push(`- only on Discord: ${names(summary.names.removed, summary.removed)}`);
      }
      if (summary.changed) {
        lines.push(`- changed: ${names(summary.names.changed, summary.changed)}`);
      }
      lines.push("Run `deno task commands diff` for details, `commands sync` to apply.");
    }
  } else {
    lines.push(`Discord: not checked now (${(s.liveError ?? "no answer").slice(0, 200)})`);
    if (s.lastCheck) {
      lines.push(
        `Last check ${when(s.lastCheck.at)}: ` +
          (s.lastCheck.inSync ? "in sync" : `drift: ${describeSummary(s.lastCheck.summary)}`),
      );
    }
  }
  return lines.join("\n").slice(0, 1_900);
}

export const commandsStatus = defineCommand({
  name: "commands_status",
  description: "Show the slash-command manifest's fingerprint, last sync and drift",
  category: "Admin",
  permissions: ["ManageGuild"],
  readOnly: true,
  cooldown: { uses: 2, perMs: 10_000 },
  handler: async (ctx) => ctx.ephemeral(renderCommandStatus(await commandStatus(manifestEnv(ctx)))),
});
