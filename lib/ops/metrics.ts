/**
 * Prometheus metrics with prom-client. Each isolate keeps its own registry (no KV write on the
 * hot path) and flushes a JSON snapshot to KV every few seconds; GET /metrics aggregates every
 * live isolate's snapshot with prom-client's own AggregatorRegistry, so a scrape sees the whole
 * deployment whichever isolate answers it. A dead isolate's snapshot expires after ten minutes;
 * Prometheus's rate() treats the drop as a counter reset.
 */
import client from "prom-client";
import type { RestEvent } from "../discord/rest.ts";
import type { LinkedFigures } from "../jobs/fresh_backlog.ts";
import type { ChunkEnd } from "../jobs/runner.ts";
import { keys } from "../kv/keys.ts";

/** What a freshness pass reports (lib/sync/fresh_pass.ts's summary, structurally). */
export interface FreshPassFigures {
  intake:
    | {
      queued: number;
      repeated: number;
      otherService: number;
      badTime: number;
      cursorReset: boolean;
      gap: boolean;
    }
    | { error: string };
  guilds: { guildId: string; applied: number; calls: number; reads: number }[];
  /**
   * Linked users' figures (lib/linked_roles/fresh.ts's LinkedApplyResult, structurally); null or
   * absent: linked roles were off, or their stage failed.
   */
  linked?: LinkedPassFigures | null;
}

/** What a pass did for linked users (Discord linked roles): the figures /metrics counts. */
export type LinkedPassFigures = Pick<
  LinkedFigures,
  "pushes" | "refreshes" | "failures" | "unlinked"
>;

const SNAPSHOT_TTL_MS = 10 * 60_000;
export const FLUSH_INTERVAL_MS = 15_000;

export class Metrics {
  readonly registry = new client.Registry();
  readonly isolateId = crypto.randomUUID();

  readonly interactions = this.#counter(
    "discord_interactions_total",
    "Interactions handled, by type and outcome.",
    ["type", "outcome"],
  );
  readonly interactionSeconds = new client.Histogram({
    name: "discord_interaction_duration_seconds",
    help: "Time from receiving an interaction to having its response, by type.",
    labelNames: ["type"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly restRequests = this.#counter(
    "discord_rest_requests_total",
    "Discord REST responses, by route bucket and HTTP status.",
    ["route", "status"],
  );
  readonly restRateLimited = this.#counter(
    "discord_rest_rate_limited_total",
    "429 responses from Discord, by scope (user, global, shared).",
    ["scope"],
  );
  readonly restRetries = this.#counter(
    "discord_rest_retries_total",
    "Retried Discord requests, by reason.",
    ["reason"],
  );
  readonly restInvalid = new client.Gauge({
    name: "discord_rest_invalid_requests",
    help: "401/403/429 responses counted in the sliding 10-minute window (Discord bans at 10,000).",
    registers: [this.registry],
    aggregator: "max",
  });
  readonly restInvalidLimit = new client.Gauge({
    name: "discord_rest_invalid_requests_limit",
    help: "The count at which the REST client pauses itself.",
    registers: [this.registry],
    aggregator: "max",
  });
  readonly syncMembers = this.#counter(
    "ethos_sync_members_total",
    "Members processed by the role sync, by outcome (changed, unchanged, skipped) and guild.",
    ["outcome", "guild"],
  );
  readonly syncChunkSeconds = new client.Histogram({
    name: "ethos_sync_chunk_duration_seconds",
    help: "Duration of role-sync chunks, by guild.",
    labelNames: ["guild"],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 900],
    registers: [this.registry],
  });
  readonly freshApplied = this.#counter(
    "ethos_fresh_updates_applied_total",
    "Score changes the freshness pass brought to Discord (roles written or found right), by guild.",
    ["guild"],
  );
  readonly freshCalls = this.#counter(
    "ethos_fresh_discord_calls_total",
    "Discord calls made by the freshness pass, by kind (write, read).",
    ["kind"],
  );
  readonly freshFeed = this.#counter(
    "ethos_fresh_feed_entries_total",
    "Score-updates feed entries read by the freshness pass, by what became of them (queued, " +
      "repeated, other_service, bad_time), and feed errors, skipped spans (gap) and cursor resets.",
    ["kind"],
  );
  readonly linkedPushes = this.#counter(
    "ethos_linked_pushes_total",
    "Linked-role metadata pushes Discord accepted (freshness pass, linked users).",
    [],
  );
  readonly linkedPushFailures = this.#counter(
    "ethos_linked_push_failures_total",
    "Linked-role pushes or token refreshes that failed (left for a later pass).",
    [],
  );
  readonly linkedRefreshes = this.#counter(
    "ethos_linked_token_refreshes_total",
    "Linked users' access tokens refreshed by the freshness pass.",
    [],
  );
  readonly linkedUnlinked = this.#counter(
    "ethos_linked_unlinked_total",
    "Linked users whose grant was found revoked (tokens deleted, no longer linked).",
    [],
  );
  readonly kvOperations = this.#counter(
    "deno_kv_operations_total",
    "Deno KV operations, by kind.",
    ["op"],
  );
  readonly backupBytes = this.#counter(
    "backup_stored_bytes_total",
    "Bytes of backups written to KV, by form (raw, compressed).",
    ["form"],
  );

  #counter(name: string, help: string, labelNames: string[]) {
    return new client.Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Feeds the REST client's events (pass as its onEvent). */
  rest = (event: RestEvent): void => {
    switch (event.type) {
      case "response":
        this.restRequests.inc({ route: event.route, status: String(event.status) });
        break;
      case "rate_limited":
        this.restRateLimited.inc({ scope: event.scope });
        break;
      case "retry":
        this.restRetries.inc({ reason: event.reason });
        break;
      case "invalid_request":
        this.restInvalid.set(event.used);
        this.restInvalidLimit.set(event.limit);
        break;
    }
  };

  /** Feeds a finished role-sync chunk: member outcomes (counter deltas) and its duration. */
  syncChunk = (chunk: ChunkEnd): void => {
    const outcome = (k: string) => k.split(".")[0];
    const delta = new Map<string, number>();
    for (const [k, v] of Object.entries(chunk.after.counters)) {
      if (!["changed", "unchanged", "skipped", "errors"].includes(outcome(k))) continue;
      const d = v - (chunk.before.counters[k] ?? 0);
      if (d > 0) delta.set(outcome(k), (delta.get(outcome(k)) ?? 0) + d);
    }
    for (const [o, n] of delta) this.syncMembers.inc({ outcome: o, guild: chunk.key }, n);
    this.syncChunkSeconds.observe({ guild: chunk.key }, chunk.durationMs / 1000);
  };

  /** Feeds a freshness pass's figures. */
  freshPass = (pass: FreshPassFigures): void => {
    const i = pass.intake;
    if ("error" in i) this.freshFeed.inc({ kind: "error" });
    else {
      this.freshFeed.inc({ kind: "queued" }, i.queued);
      this.freshFeed.inc({ kind: "repeated" }, i.repeated);
      this.freshFeed.inc({ kind: "other_service" }, i.otherService);
      this.freshFeed.inc({ kind: "bad_time" }, i.badTime);
      if (i.cursorReset) this.freshFeed.inc({ kind: "cursor_reset" });
      if (i.gap) this.freshFeed.inc({ kind: "gap" });
    }
    for (const g of pass.guilds) {
      if (g.applied) this.freshApplied.inc({ guild: g.guildId }, g.applied);
      this.freshCalls.inc({ kind: "write" }, g.calls);
      this.freshCalls.inc({ kind: "read" }, g.reads);
    }
    const l = pass.linked;
    if (l) {
      this.linkedPushes.inc(l.pushes);
      this.linkedPushFailures.inc(l.failures);
      this.linkedRefreshes.inc(l.refreshes);
      this.linkedUnlinked.inc(l.unlinked);
    }
  };

  /** Writes this isolate's snapshot to KV. */
  async flush(kv: Deno.Kv): Promise<void> {
    const snapshot = await this.registry.getMetricsAsJSON();
    await kv.set(keys.metricsSnapshot(this.isolateId), snapshot, { expireIn: SNAPSHOT_TTL_MS });
  }
}

/** Every live isolate's metrics in one registry, this one's flushed first so it is fresh. */
export async function aggregate(kv: Deno.Kv, local: Metrics): Promise<client.Registry> {
  await local.flush(kv);
  const snapshots: object[] = [];
  for await (const entry of kv.list<object[]>({ prefix: keys.metricsSnapshots() })) {
    if (Array.isArray(entry.value)) snapshots.push(entry.value);
  }
  return client.AggregatorRegistry.aggregate(snapshots);
}

/** The Prometheus text of every live isolate's metrics, this one's included fresh. */
export async function scrape(
  kv: Deno.Kv,
  local: Metrics,
): Promise<{ text: string; contentType: string }> {
  const registry = await aggregate(kv, local);
  return { text: await registry.metrics(), contentType: registry.contentType };
}

/** Deployment-wide values read from KV at scrape time (one per deployment, not per isolate). */
export interface GaugeFamily {
  name: string;
  help: string;
  samples: { labels?: Record<string, string>; value: number }[];
}

/** The Prometheus text of gauges read at scrape time, to append to `scrape`'s. */
export function gaugeText(families: readonly GaugeFamily[]): string {
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}="${esc(v)}"`).join(",");
      lines.push(`${f.name}${labels ? `{${labels}}` : ""} ${s.value}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Linked roles as /metrics gauges (read at scrape time: the count is two KV counters). */
export function linkedGauges(s: { enabled: boolean; linkedUsers: number }): GaugeFamily[] {
  return [
    {
      name: "ethos_linked_users",
      help: "Discord users who connected their Ethos linked role (records kept in KV).",
      samples: [{ value: s.linkedUsers }],
    },
    {
      name: "ethos_linked_roles_enabled",
      help: "1 when linked roles are on (DISCORD_CLIENT_SECRET and SELF_URL set), else 0.",
      samples: [{ value: s.enabled ? 1 : 0 }],
    },
  ];
}

/** A Deno.Kv that counts its operations into `metrics` (everything else passes through). */
export function countingKv(kv: Deno.Kv, metrics: Metrics): Deno.Kv {
  const counted = new Set(["get", "getMany", "set", "delete", "list", "enqueue"]);
  return new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => {
            metrics.kvOperations.inc({ op: "atomic" });
            return commit();
          };
          return op;
        };
      }
      if (typeof prop === "string" && counted.has(prop)) {
        return (...args: unknown[]) => {
          metrics.kvOperations.inc({ op: prop });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}
