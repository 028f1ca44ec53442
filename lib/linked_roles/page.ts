/**
 * The pages of the connect flow: what Discord now knows after a connection, and what went wrong
 * otherwise, with the way back (to Discord, or to start again). Plain HTML, no script, English.
 */
import type { ConnectOutcome } from "./connect.ts";
import { CONNECT_URL, ETHOS_APP } from "../ethos/profile.ts";
import { LEVELS } from "../ethos/levels.ts";
import { escapeHtml } from "../http/html.ts";

const esc = escapeHtml;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}
dt{color:#555}dd{margin:0;font-weight:600}a.button{display:inline-block;margin-top:1rem;padding:.6rem 1rem;border-radius:8px;background:#5865f2;color:#fff;text-decoration:none}
.note{color:#555;font-size:.9rem}
</style></head><body><main>
${body}
</main></body></html>`;
}

const BACK =
  `<p>You can close this tab and go back to Discord. In a server that uses Ethos linked roles, open
the server's menu, <strong>Linked Roles</strong>, and claim the role: Discord checks these values.</p>`;

const AGAIN = `<a class="button" href="/linked-role">Start again</a>`;

/** The page and HTTP status for an outcome of the callback. */
export function renderOutcome(o: ConnectOutcome): { status: number; html: string } {
  switch (o.kind) {
    case "connected": {
      const m = o.metadata;
      const level = LEVELS[Number(m.level)]?.[0] ?? "untrusted";
      const who = esc(o.user.global_name ?? o.user.username);
      const profile = o.profile
        ? `<p>Your Ethos profile <strong>${esc(o.profile.displayName)}</strong> is linked to your
Discord account <strong>${who}</strong>. Discord now knows:</p>`
        : `<p>Discord account <strong>${who}</strong> has no Ethos profile yet, so Discord now knows a
score of 0. <a href="${esc(ETHOS_APP)}">Create an Ethos profile</a> and
<a href="${esc(CONNECT_URL)}">connect your Discord account there</a>, then
<a href="/linked-role">connect again</a>.</p>`;
      return {
        status: 200,
        html: page(
          "Ethos linked to Discord",
          `<h1>Ethos is linked to Discord</h1>
${profile}
<dl id="metadata">
<dt>Ethos score</dt><dd data-key="score">${esc(m.score)}</dd>
<dt>Level</dt><dd data-key="level">${esc(m.level)} (${esc(level)})</dd>
<dt>Validator</dt><dd data-key="validator">${m.validator === "1" ? "yes" : "no"}</dd>
<dt>Human verified</dt><dd data-key="human">${m.human === "1" ? "yes" : "no"}</dd>
</dl>
${BACK}
<p class="note">When your Ethos score changes, the bot updates what Discord knows within minutes.</p>`,
        ),
      };
    }
    case "denied":
      return problem(400, "Not linked", "You cancelled on Discord's page, so nothing was linked.");
    case "bad_state":
      return problem(
        400,
        "This link has expired",
        o.reason === "used_or_expired"
          ? "This sign-in link was already used or is more than 10 minutes old."
          : "This sign-in did not start here, or your browser did not keep its cookie.",
      );
    case "bad_code":
      return problem(400, "Not linked", "Discord's sign-in code was already used or has expired.");
    case "missing_scope":
      return problem(
        400,
        "Not linked",
        "The bot needs permission to update your linked roles, and Discord did not grant it.",
      );
    case "upstream":
      return problem(
        424,
        "Not linked yet",
        `${o.service} did not answer as expected, so nothing was linked. Please try again in a minute.`,
      );
  }
}

function problem(status: number, title: string, text: string) {
  return { status, html: page(title, `<h1>${esc(title)}</h1><p>${esc(text)}</p>${AGAIN}`) };
}

/** The connect page's body (the browser follows the redirect; this is for those that do not). */
export function renderRedirect(location: string): string {
  return page(
    "Link Ethos to Discord",
    `<h1>Link Ethos to Discord</h1><p><a class="button" href="${
      esc(location)
    }">Continue to Discord</a></p>`,
  );
}
