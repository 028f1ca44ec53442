/** What the status and metrics tests share: a stored pass summary and the /status.json round trip. */
import type { PassSummary } from "../../lib/sync/fresh_pass.ts";
import { emptyIntake } from "../../lib/sync/fresh_intake.ts";
import type { TestApp } from "../_harness.ts";
import type { StatusData } from "../../lib/status/data.ts";

/** A freshness pass summary as lib/sync/fresh_pass.ts stores it: a quiet pass, then `over`. */
export function passSummary(over: Partial<PassSummary> = {}): PassSummary {
  return {
    at: Date.UTC(2026, 10, 22, 12),
    durationMs: 1_000,
    intake: (({ cursor: _, ...i }) => ({ ...i, ran: true, pages: 1 }))(emptyIntake()),
    guilds: [],
    linked: null,
    lastApplied: null,
    ...over,
  };
}

/** GET /status.json as an operator gets it: a status link, its session cookie, the JSON. */
export async function statusJson(t: TestApp, token: string): Promise<StatusData> {
  const link = await (await t.handle(
    new Request("https://bot.example/status-link", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    }),
  )).json();
  const login = await t.handle(new Request(link.url));
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  await login.body?.cancel();
  return await (await t.handle(
    new Request("https://bot.example/status.json", { headers: { cookie } }),
  )).json();
}
