/**
 * Per-guild backup schedules in KV: every N hours (1-168). The cron (service.ts
 * `runScheduledBackups`) claims a due schedule atomically (moving its next time forward in the
 * same commit), so two isolates never both start the same scheduled backup.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { reason, ReasonRangeError } from "../i18n/reason.ts";

export const MIN_HOURS = 1;
export const MAX_HOURS = 168;
const HOUR = 3_600_000;

const scheduleSchema = z.object({
  enabled: z.boolean(),
  hours: z.number().int().min(MIN_HOURS).max(MAX_HOURS),
  nextAt: z.number(),
  lastRunAt: z.number().nullable(),
  lastResult: z.string().nullable(),
  updatedBy: z.string(),
  updatedAt: z.number(),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export async function getSchedule(kv: Deno.Kv, guildId: string): Promise<Schedule | null> {
  const entry = await kv.get(keys.backupSchedule(guildId));
  const parsed = scheduleSchema.safeParse(entry.value);
  return parsed.success ? parsed.data : null;
}

/**
 * Turns the schedule on (every `hours`, first run one interval from now) or off. Hours out of
 * range throw a RangeError with its Reason.
 */
export async function setSchedule(
  kv: Deno.Kv,
  guildId: string,
  change: { enabled: true; hours: number } | { enabled: false },
  by: string,
  now: number,
): Promise<Schedule> {
  const key = keys.backupSchedule(guildId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(key);
    const cur = scheduleSchema.safeParse(entry.value);
    const base = cur.success ? cur.data : null;
    const hours = change.enabled ? change.hours : base?.hours ?? 24;
    if (!Number.isInteger(hours) || hours < MIN_HOURS || hours > MAX_HOURS) {
      throw new ReasonRangeError(
        reason("reason.schedule_hours", { min: MIN_HOURS, max: MAX_HOURS }),
      );
    }
    const next: Schedule = {
      enabled: change.enabled,
      hours,
      // Enabling again with the same interval keeps the run already due (no postponing it).
      nextAt: !change.enabled
        ? base?.nextAt ?? now
        : base?.enabled && base.hours === hours
        ? base.nextAt
        : now + hours * HOUR,
      lastRunAt: base?.lastRunAt ?? null,
      lastResult: base?.lastResult ?? null,
      updatedBy: by,
      updatedAt: now,
    };
    if ((await kv.atomic().check(entry).set(key, next).commit()).ok) return next;
  }
  throw new Error("schedule update kept conflicting; try again");
}

/** Every guild's schedule. */
export async function listSchedules(
  kv: Deno.Kv,
): Promise<{ guildId: string; schedule: Schedule }[]> {
  const out: { guildId: string; schedule: Schedule }[] = [];
  for await (const e of kv.list({ prefix: keys.backupSchedules() })) {
    const parsed = scheduleSchema.safeParse(e.value);
    const guildId = e.key[e.key.length - 1];
    if (parsed.success && typeof guildId === "string") {
      out.push({ guildId, schedule: parsed.data });
    }
  }
  return out;
}

/**
 * Claims a due run: true when the schedule is enabled, due, and this call moved its next time
 * forward (atomically, so only one caller wins).
 */
export async function claimDue(kv: Deno.Kv, guildId: string, now: number): Promise<boolean> {
  const key = keys.backupSchedule(guildId);
  const entry = await kv.get(key);
  const cur = scheduleSchema.safeParse(entry.value);
  if (!cur.success || !cur.data.enabled || cur.data.nextAt > now) return false;
  // The next run is one interval after this one; a long outage does not cause a burst.
  const next: Schedule = { ...cur.data, nextAt: now + cur.data.hours * HOUR, lastRunAt: now };
  return (await kv.atomic().check(entry).set(key, next).commit()).ok;
}

/** Records how the last scheduled run went ("created <id>", "skipped: ..."). */
export async function recordResult(kv: Deno.Kv, guildId: string, result: string): Promise<void> {
  const key = keys.backupSchedule(guildId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(key);
    const cur = scheduleSchema.safeParse(entry.value);
    if (!cur.success) return;
    const next = { ...cur.data, lastResult: result.slice(0, 200) };
    if ((await kv.atomic().check(entry).set(key, next).commit()).ok) return;
  }
}
