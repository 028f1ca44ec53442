/** Every Deno.cron of the bot, each a one-line call into lib/. */
import type { App } from "./lib/app.ts";

export function registerCrons(app: App): void {
  const log = app.deps.log.child({ component: "cron" });
  const cron = (name: string, schedule: string, run: () => Promise<unknown>) =>
    Deno.cron(name, schedule, async () => {
      try {
        await run();
      } catch (error) {
        log.error("cron job failed", { cron: name, error });
      }
    });
  // Keeps KV warm and proves the cron runtime works; the job crons are added by their issues.
  cron(
    "heartbeat",
    "*/10 * * * *",
    () => app.deps.kv.set(["health", "cron"], app.deps.clock.now()),
  );
}
