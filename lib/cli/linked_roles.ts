/**
 * `linked-roles register|status`: the linked-roles CLI (`deno task linked-roles ...`). It talks
 * only to the bot's HTTP API (POST /linked-roles/register, GET /linked-roles/status, bearer
 * $SYNC_AUTH_TOKEN). Exit codes: 0 done, 2 could not run (usage, bot unreachable, 401, HTTP error).
 */
import {
  type BaseIO,
  callBot,
  connection,
  DEFAULT_URL,
  defaultBaseIO,
  NO_TOKEN,
  parseArgs,
  UsageError,
  usageError,
  utcTime,
} from "./common.ts";
import type { RegisterResult } from "../linked_roles/metadata.ts";
import type { LinkedRolesStatus } from "../linked_roles/status.ts";

export const USAGE = `Usage: linked-roles <register|status> [options]

  register        register the Ethos linked-role metadata records with Discord (no call when unchanged)
  status          whether linked roles are on, the URLs to set in the developer portal, linked users

Options:
  --url URL       the bot's base URL (default: $SYNC_URL, else ${DEFAULT_URL})
  --token TOKEN   operator token (default: $SYNC_AUTH_TOKEN)
  --force         register: register even when unchanged
  --json          print the API's JSON answer
  --color, --no-color
  -h, --help`;

export async function runLinkedRolesCli(
  args: string[],
  partial: Partial<BaseIO> = {},
): Promise<number> {
  const io: BaseIO = { ...defaultBaseIO(), ...partial };
  let sub: string | undefined;
  let p;
  try {
    p = parseArgs(args, {
      valued: [],
      flags: ["force"],
      allowEmpty: false,
      positional: (arg) => {
        if (sub !== undefined) throw new UsageError(`unexpected argument ${arg}`);
        sub = arg;
      },
    });
  } catch (error) {
    return usageError(io, "linked-roles", USAGE, (error as Error).message);
  }
  if (p.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (sub !== "register" && sub !== "status") {
    return usageError(
      io,
      "linked-roles",
      USAGE,
      sub ? `unknown sub-command "${sub}"` : "missing sub-command",
    );
  }
  const force = p.flags.has("force");
  if (force && sub !== "register") {
    return usageError(io, "linked-roles", USAGE, "--force only applies to register");
  }
  const conn = connection(io, {
    url: p.values.url,
    token: p.values.token,
    json: p.json,
    color: p.color,
  }, `linked-roles ${sub}`);
  if ("usage" in conn) return usageError(io, "linked-roles", USAGE, conn.usage);
  const { base, token, s, fail } = conn;
  if (!token) return fail(NO_TOKEN);
  const [method, path, body] = sub === "register"
    ? ["POST", "/linked-roles/register", force ? { force: true } : {}]
    : ["GET", "/linked-roles/status", undefined];
  const r = await callBot(io, base, token, method, path, body, { timeoutMs: 60_000 });
  if (!r.ok) return fail(r.message, r.status);
  if (p.json) {
    io.stdout(JSON.stringify(r.body, null, 2));
    return 0;
  }
  if (sub === "register") {
    const rr = r.body as RegisterResult;
    io.stdout(
      rr.status === "unchanged"
        ? s.green(
          `✔ Unchanged: the records registered at ${
            utcTime(rr.registeredAt)
          } are current (no call).`,
        )
        : s.green(
          `✔ Registered ${rr.records.length} records: ${rr.records.map((x) => x.key).join(", ")}.`,
        ),
    );
    return 0;
  }
  const st = r.body as LinkedRolesStatus;
  io.stdout([
    s.bold("Linked roles"),
    `  connect routes   ${
      st.enabled ? s.green("on") : s.yellow("off (set DISCORD_CLIENT_SECRET and SELF_URL)")
    }`,
    `  verification URL ${st.verificationUrl ?? "-"}`,
    `  redirect URI     ${st.redirectUri ?? "-"}`,
    `  records          ${
      st.registered
        ? `registered ${utcTime(st.registered.at)}${
          st.registered.current ? "" : s.yellow(" (outdated: run register)")
        }`
        : s.yellow("never registered (run register)")
    }`,
    `  linked users     ${st.linkedUsers}`,
  ].join("\n"));
  return 0;
}
