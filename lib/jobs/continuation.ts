/**
 * Delivering a run's next chunk over HTTP: a POST of `{runId, chunk}` to the job's continue route
 * with the bearer token, a new request and so a new time budget on whichever instance Deploy
 * picks. Retried with backoff; a continuation that never arrives is the watchdog's to resume.
 */
import type { JobEnv } from "./job.ts";

export interface Continuation {
  runId: string;
  chunk: number;
}

/** Posts the continuation to `url`, up to `attempts` times; never throws. */
export async function postContinuation(
  env: Pick<JobEnv, "fetch" | "authToken" | "log" | "clock">,
  url: string,
  body: Continuation,
  attempts: number,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await env.fetch(url, {
        method: "POST",
        headers: {
          "authorization": `Bearer ${env.authToken}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      if (res.status < 500) {
        env.log.info("job: continuation sent", { url, status: res.status, ...body });
        return;
      }
    } catch (error) {
      env.log.warn("job: continuation request failed", { url, error: String(error) });
    }
    await env.clock.sleep(500 * 2 ** i).catch(() => {});
  }
  env.log.warn("job: continuation not delivered; the watchdog will resume the run", { ...body });
}
