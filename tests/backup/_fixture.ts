/**
 * Backup test fixture: the Discord emulator and the bot built in-process against it (real
 * RestClient, real routes, KV in memory or in a file), optionally served over HTTP (for the CLI
 * and for SELF_URL continuations). `interact` plays Discord's part for slash commands: it signs
 * and posts the interaction, then hands the bot's answer to the emulator's callback endpoint so
 * deferred edits and follow-ups land on a message the emulator knows.
 */
import type { Metrics } from "../../lib/ops/metrics.ts";
import type { APIInteraction } from "discord-api-types/v10";
import type { Emulator } from "../emulator/server.ts";
import type { InteractionAnswer } from "../_harness.ts";
import type { WebhookMessage } from "../emulator/interactions.ts";
import { type Clock, systemClock } from "../../lib/clock.ts";
import { type JobStatus, jobStatus } from "../../lib/backup/service.ts";
import {
  type BotFixture,
  emulatorCallback,
  fixtureStarter,
  type InProcessBot,
  pollUntil,
  startInProcessBot,
} from "../_bot.ts";

export const GUILD = "200000000000000001";
export const TOKEN = "backup-test-token-0123456789abcdef";
export const OWNER = "310000000000000001";

export interface BotOptions {
  env?: Record<string, string>;
  /** Serve over HTTP (the CLI, SELF_URL continuations). Default false. */
  serve?: boolean;
  /** Also set SELF_URL to the served URL (chunks continue over HTTP). Default false. */
  selfUrl?: boolean;
  kv?: Deno.Kv;
  clock?: Clock;
  metrics?: Metrics;
}

export interface TestBot extends InProcessBot {
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Signs and posts an interaction; forwards the answer to the emulator; waits for deferred work. */
  interact(
    payload: APIInteraction,
  ): Promise<{ response: InteractionAnswer; messages: WebhookMessage[] }>;
  /** Waits until the job is no longer running or waiting. */
  waitJob(kind: "capture" | "restore", timeoutMs?: number): Promise<JobStatus>;
}

export type Fixture = BotFixture<TestBot>;

/** Fast emulator limits (every bucket at `rate`/s) and a small seeded guild by default. */
export const startFixture = fixtureStarter(
  { uniformRate: 500, guilds: [{ members: 60 }] },
  startBot,
);

export async function startBot(emu: Emulator, o: BotOptions = {}): Promise<TestBot> {
  const { bot: base, postInteraction } = await startInProcessBot(emu, {
    guildId: GUILD,
    token: TOKEN,
    serve: !!(o.serve || o.selfUrl),
    selfUrl: !!o.selfUrl,
    kv: o.kv,
    clock: o.clock,
    logError: String,
    metrics: o.metrics,
    env: { BOT_OWNER_ID: OWNER, ...o.env },
  });
  const { app, request, settle } = base;
  const bot: TestBot = {
    ...base,
    async json(method, path, body) {
      const res = await request(method, path, body);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {} };
    },
    async interact(payload) {
      const res = await postInteraction(payload);
      const response = await res.json() as InteractionAnswer;
      const p = payload as unknown as { id: string; token: string };
      // Discord's part: the answer becomes the interaction's original message.
      await emulatorCallback(emu, p, response);
      await settle();
      return { response, messages: emu.state.webhookMessages(p.token) };
    },
    async waitJob(kind, timeoutMs = 60_000) {
      await pollUntil(
        () => jobStatus(app.deps, GUILD, kind),
        (s) => !["running", "waiting", "stopping"].includes(s.progress.state),
        timeoutMs,
        20,
        (last) =>
          new Error(`timed out waiting for the ${kind} job: ${JSON.stringify(last?.progress)}`),
      );
      await settle();
      return await jobStatus(app.deps, GUILD, kind);
    },
  };
  return bot;
}

/** A clock running `offsetMs` ahead of the wall clock (a later instance, after leases lapse). */
export function offsetClock(offsetMs: number): Clock & { shift(ms: number): void } {
  let offset = offsetMs;
  return {
    now: () => Date.now() + offset,
    sleep: systemClock.sleep,
    after: systemClock.after,
    shift: (ms) => void (offset += ms),
  };
}
