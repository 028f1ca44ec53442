/**
 * What the tests of the backup layer's refusals share (store, schedule, service, the /backup
 * command's common.ts): each error keeps the English message the logs and the HTTP API show,
 * carries its Reason (lib/i18n/reason.ts), and a member reads the Spanish sentence the test
 * writes out (what the /backup command showed before errors carried it), as the command words it.
 */
import assert from "node:assert/strict";
import { explain, reasonOf } from "../../lib/i18n/reason.ts";
import { refusalText } from "../../lib/commands/backup/common.ts";

/** What the error must hold: its class, its English message, a Reason, its Spanish sentence. */
export function assertSays(
  error: unknown,
  type: abstract new (...a: never[]) => Error,
  english: string,
  spanish: string,
) {
  assert.ok(error instanceof type, `${error}`);
  assert.equal(error.message, english);
  assert.ok(reasonOf(error), `${error.name} carries its Reason`);
  assert.equal(explain("en", error), english);
  assert.equal(explain("es", error), spanish);
  // The command's refusal is the sentence, capitalised, with its full stop.
  const sentence = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
  assert.equal(refusalText(error, "es"), sentence(spanish));
  assert.equal(refusalText(error, "en"), sentence(english));
}

export async function thrown(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (error) {
    return error;
  }
  return assert.fail("nothing was thrown");
}
