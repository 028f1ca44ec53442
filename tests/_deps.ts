/**
 * The deps bag (lib/deps.ts) built in memory for unit tests that call a service or a command
 * handler directly, without the HTTP app around it: a given KV, a manual clock, a memory logger,
 * the test config with overrides, and a REST client over the given fetch (on the system clock, as
 * in tests/_harness.ts: its pacing must not wait for the test to move the manual clock).
 */
import { testConfig } from "./_config.ts";
import { ManualClock } from "./_clock.ts";
import { memoryLogger } from "./_log.ts";
import { RestClient } from "../lib/discord/rest.ts";
import type { AppDeps } from "../lib/deps.ts";

export interface MemoryDeps extends AppDeps {
  clock: ManualClock;
  log: ReturnType<typeof memoryLogger>;
  /** What `waitUntil` was given, in order. */
  background: Promise<unknown>[];
}

/** A fetch that fails every call: for deps whose code under test must not reach the network. */
export const noFetch: typeof fetch = (input) =>
  Promise.reject(new Error(`unexpected fetch of ${input instanceof Request ? input.url : input}`));

export function memoryDeps(
  kv: Deno.Kv,
  o: { env?: Record<string, string>; fetch?: typeof fetch; clock?: ManualClock } = {},
): MemoryDeps {
  const config = testConfig(o.env);
  const clock = o.clock ?? new ManualClock(Date.UTC(2026, 10, 22, 12));
  const log = memoryLogger();
  const fetch = o.fetch ?? noFetch;
  const background: Promise<unknown>[] = [];
  return {
    config,
    kv,
    rest: new RestClient({
      token: config.discord.token,
      apiBase: config.discord.apiBase,
      fetch,
      log,
    }),
    clock,
    log,
    fetch,
    waitUntil: (p) => void background.push(p),
    startedAt: clock.now(),
    background,
  };
}
