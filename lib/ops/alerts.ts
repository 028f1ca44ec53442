/**
 * Alerts to an operator's Discord webhook (ALERT_WEBHOOK_URL): at most one per cause per hour,
 * deduplicated in KV so every isolate agrees, and the recent ones kept for the status page.
 * Sending never throws into the caller: an alert that cannot be delivered is logged.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import { redactString } from "../log/redact.ts";
import { keys } from "../kv/keys.ts";
import { claimRecord } from "../kv/record.ts";

export const ALERT_DEDUPE_MS = 60 * 60_000;
const KEEP = 20;
const RECENT_TTL_MS = 30 * 24 * 60 * 60_000;

export type Severity = "warning" | "critical";

export interface AlertInput {
  /** Stable identity of the problem, e.g. `sync_failed:<guild>`; one alert per cause per hour. */
  cause: string;
  title: string;
  detail: string;
  severity?: Severity;
}

const alertSchema = z.object({
  cause: z.string(),
  title: z.string(),
  detail: z.string(),
  severity: z.enum(["warning", "critical"]),
  at: z.number(),
  delivered: z.boolean(),
});
export type Alert = z.infer<typeof alertSchema>;

export interface AlertDeps {
  kv: Deno.Kv;
  clock: Clock;
  log: Logger;
  fetch: typeof fetch;
  config: { ops: { alertWebhookUrl?: string } };
}

export type AlertResult = "sent" | "recorded" | "deduplicated";

export async function raiseAlert(deps: AlertDeps, input: AlertInput): Promise<AlertResult> {
  const now = deps.clock.now();
  const first = await claimRecord(
    deps.kv,
    keys.alertDedupe(input.cause),
    now,
    ALERT_DEDUPE_MS,
    deps.clock,
  );
  if (!first) {
    deps.log.debug("alert deduplicated", { cause: input.cause });
    return "deduplicated";
  }
  const alert: Alert = {
    cause: input.cause,
    title: redactString(input.title).slice(0, 200),
    detail: redactString(input.detail).slice(0, 1500),
    severity: input.severity ?? "warning",
    at: now,
    delivered: false,
  };
  deps.log.warn("alert", { cause: alert.cause, title: alert.title, severity: alert.severity });
  const url = deps.config.ops.alertWebhookUrl;
  if (url) alert.delivered = await deliver(deps, url, alert);
  // Newest first when listed: the key sorts by inverted time.
  await deps.kv.set(keys.alert(Number.MAX_SAFE_INTEGER - now, alert.cause), alert, {
    expireIn: RECENT_TTL_MS,
  });
  return alert.delivered ? "sent" : "recorded";
}

async function deliver(deps: AlertDeps, url: string, alert: Alert): Promise<boolean> {
  try {
    const res = await deps.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        username: "Ethos bot alerts",
        allowed_mentions: { parse: [] },
        embeds: [{
          title: `${alert.severity === "critical" ? "🔴" : "🟠"} ${alert.title}`,
          description: alert.detail,
          color: alert.severity === "critical" ? 0xd83c3e : 0xf0a020,
          footer: { text: alert.cause },
          timestamp: new Date(alert.at).toISOString(),
        }],
      }),
      signal: AbortSignal.timeout(5_000),
    });
    await res.body?.cancel();
    if (!res.ok) {
      deps.log.error("alert webhook refused", { status: res.status, cause: alert.cause });
    }
    return res.ok;
  } catch (error) {
    deps.log.error("alert webhook unreachable", { error, cause: alert.cause });
    return false;
  }
}

/** The most recent alerts, newest first. */
export async function recentAlerts(kv: Deno.Kv, limit = KEEP): Promise<Alert[]> {
  const out: Alert[] = [];
  for await (const entry of kv.list({ prefix: keys.alerts() }, { limit })) {
    const parsed = alertSchema.safeParse(entry.value);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
