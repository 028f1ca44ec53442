/** Whether KV answers, within a short time limit. */
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";

export async function kvHealth(
  kv: Deno.Kv,
  clock: Clock,
  timeoutMs = 1_000,
): Promise<{ ok: boolean; latencyMs: number | null; error?: string }> {
  const start = performance.now();
  const timer = new AbortController();
  try {
    await Promise.race([
      kv.get(keys.health()),
      clock.sleep(timeoutMs, timer.signal).then(() => {
        throw new Error(`no answer within ${timeoutMs} ms`);
      }),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - start) * 100) / 100 };
  } catch (error) {
    return {
      ok: false,
      latencyMs: null,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    timer.abort();
  }
}
