/**
 * lib/commands/ethos_sync_status.ts in each language: the status embed says a run's last error in
 * the member's language, from the Reason the run stored beside it; without one (a run stored before
 * errors carried their Reason, or an error of someone else's words) its text shows as it is.
 */
import assert from "node:assert/strict";
import { statusEmbed } from "../../lib/commands/ethos_sync_status.ts";
import { type Language, t } from "../../lib/i18n/mod.ts";
import { reason } from "../../lib/i18n/reason.ts";
import { idleProgress, type JobProgress } from "../../lib/jobs/progress.ts";

const GUILD = "200000000000000001";

function failed(o: Partial<JobProgress>): JobProgress {
  return { ...idleProgress("sync", GUILD), runId: "run-a", state: "failed", chunk: 1, ...o };
}

function lastError(p: JobProgress, language: Language): string | undefined {
  const name = t(language, "ethos_sync.last_error");
  return statusEmbed(p, language).fields?.find((f) => f.name === name)?.value;
}

Deno.test("ethos_sync_status: the last error shows in the member's language", () => {
  const why = reason("reason.sync_disabled", { guild: GUILD });
  const english = t("en", "reason.sync_disabled", { guild: GUILD });
  const spanish = t("es", "reason.sync_disabled", { guild: GUILD });
  assert.notEqual(spanish, english);
  assert.equal(lastError(failed({ lastError: english, lastErrorWhy: why }), "es"), spanish);
  // Without it (a run stored before errors carried one): its English text, as stored.
  assert.equal(lastError(failed({ lastError: english }), "es"), english);
  assert.equal(lastError(failed({ lastError: english, lastErrorWhy: why }), "en"), english);
  // The Reason wins over its text: a reworded English sentence is still translated.
  assert.equal(lastError(failed({ lastError: "reworded", lastErrorWhy: why }), "es"), spanish);
  // An error without a Reason of the catalogue shows as it is.
  assert.equal(lastError(failed({ lastError: "boom" }), "es"), "boom");
  assert.equal(lastError(failed({}), "es"), undefined);
});
