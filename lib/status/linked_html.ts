/**
 * The status page's Linked roles section: whether the connect flow is on, what to paste in the
 * developer portal, the metadata records, and the last freshness pass's linked-user figures.
 */
import { escapeHtml as esc } from "../http/html.ts";
import type { LinkedSection, Section } from "./data.ts";
import { figure, num, time, unavailable } from "./html_format.ts";

const REGISTER = "deno task linked-roles register";

export function linkedHtml(s: Section<LinkedSection>): string {
  if (!s.ok) return unavailable(s.error);
  const l = s.value;
  const records = !l.registered
    ? `<span class="warn">not registered: run <code>${REGISTER}</code></span>`
    : l.registered.current
    ? `current<br><small>registered ${time(l.registered.at)}</small>`
    : `<span class="warn">outdated: run <code>${REGISTER}</code></span><br><small>registered ${
      time(l.registered.at)
    }</small>`;
  const figs = `<dl class="figs">
${
    figure(
      "linked-state",
      "Linked roles",
      l.enabled ? "on" : `<span class="warn">off: set DISCORD_CLIENT_SECRET and SELF_URL</span>`,
    )
  }
${figure("linked-users", "Linked users", num(l.linkedUsers))}
${figure("linked-records", "Metadata records", records)}
${
    l.verificationUrl
      ? figure(
        "linked-verification-url",
        "Verification URL (developer portal, General Information)",
        `<code>${esc(l.verificationUrl)}</code>`,
      )
      : ""
  }
${
    l.redirectUri
      ? figure(
        "linked-redirect-uri",
        "OAuth2 redirect to add (developer portal, OAuth2)",
        `<code>${esc(l.redirectUri)}</code>`,
      )
      : ""
  }
</dl>`;
  if (!l.enabled) return figs;
  return `${figs}<h3>Linked users in the last freshness pass</h3>${linkedPassHtml(l.lastPass)}`;
}

function linkedPassHtml(s: LinkedSection["lastPass"]): string {
  if (!s.ok) return unavailable(s.error);
  const p = s.value;
  if (!p) {
    return `<p id="linked-last-pass">No figures yet: no pass has run with linked roles on, or their stage failed (see the log).</p>`;
  }
  const warnIf = (n: number) => (n ? `<span class="warn">${num(n)}</span>` : "0");
  return `<dl class="figs">
${figure("linked-last-pass", "Pass", time(p.at))}
${figure("linked-pushes", "Metadata pushed", num(p.pushes))}
${figure("linked-refreshes", "Tokens refreshed", num(p.refreshes))}
${figure("linked-failures", "Failures", warnIf(p.failures))}
${figure("linked-unlinked", "Grants found revoked", num(p.unlinked))}
${figure("linked-left", "Left for the next pass", num(p.left))}
</dl>`;
}
