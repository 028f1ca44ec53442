/**
 * What the runner's refusal tests share (start_decision_test.ts, runner_test.ts): the check that a
 * refusal carries its Reason (lib/i18n/reason.ts), its English text, and the Spanish sentence a
 * member reads (what the edges showed before refusals carried their Reason).
 */
import assert from "node:assert/strict";
import { explain, type Reason, reasonText, type Refusal } from "../../lib/i18n/reason.ts";

/** What a refusal must hold: its Reason, its English text, and its Spanish sentence. */
export function assertCarries(r: Refusal, want: Reason, spanish: string, name: string): void {
  assert.deepStrictEqual(r.why, want, name);
  assert.equal(r.reason, reasonText("en", want), name);
  assert.equal(explain("es", r), spanish, name);
  assert.equal(explain("en", r), r.reason, name);
}
