/**
 * A guild's roles for the /ethos_setup tests: role objects, the server view the checks take, and a
 * fake Discord (tests/discord/_fake_discord.ts) answering the role reads and writes.
 */
import type { APIRole } from "discord-api-types/v10";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { hierarchy } from "../../lib/sync/rule.ts";
import type { ServerRoles } from "../../lib/guilds/roles.ts";
import { type Call, FakeDiscord, json } from "../discord/_fake_discord.ts";
import type { ManualClock } from "../_clock.ts";

export const GUILD = "200000000000000001";
export const BOT = "100000000000000001";

let next = 0;
/** A role; ids grow with each call so they sort like Discord's snowflakes. */
export function role(name: string, position: number, over: Partial<APIRole> = {}): APIRole {
  return {
    id: String(700000000000000000n + BigInt(++next)),
    name,
    color: 0,
    hoist: false,
    position,
    permissions: "0",
    managed: false,
    mentionable: false,
    flags: 0,
    ...over,
  } as APIRole;
}

export const everyone = (): APIRole => role("@everyone", 0, { id: GUILD });
export const MANAGE = String(PermissionFlagsBits.ManageRoles);

/** The server view of `roles` when the bot holds `botRoles`. */
export function serverOf(roles: APIRole[], botRoles: string[]): ServerRoles {
  const h = hierarchy(GUILD, roles, botRoles);
  const byId = new Map(roles.map((r) => [r.id, r]));
  return { roles, byId, hierarchy: h, botTop: byId.get(h.botTopRole) };
}

/**
 * A fake Discord for one guild: the bot user, the guild, its roles and the bot member; role
 * creation (unless `refuse` says no) and reordering (answered by `reorder`, default 200).
 */
export function guildDiscord(
  clock: ManualClock,
  o: {
    roles: APIRole[];
    botRoles: string[];
    refuse?: (call: Call, created: number) => Response | undefined;
    reorder?: (call: Call) => Response;
  },
) {
  let created = 0;
  const discord = new FakeDiscord(clock, {
    respond(call) {
      const line = `${call.method} ${call.path}`;
      if (line === "GET /users/@me") return json(200, { id: BOT, username: "bot" });
      if (line === `GET /guilds/${GUILD}`) return json(200, { id: GUILD, owner_id: "1" });
      if (line === `GET /guilds/${GUILD}/roles`) return json(200, o.roles);
      if (line === `GET /guilds/${GUILD}/members/${BOT}`) {
        return json(200, { user: { id: BOT }, roles: o.botRoles });
      }
      if (line === `POST /guilds/${GUILD}/roles`) {
        const refused = o.refuse?.(call, created);
        if (refused) return refused;
        created++;
        const body = JSON.parse(call.body!);
        return json(200, role(body.name, 1, { color: body.color }));
      }
      if (line === `PATCH /guilds/${GUILD}/roles`) return o.reorder?.(call) ?? json(200, []);
      return json(404, { message: "Unknown", code: 0 });
    },
  });
  return discord;
}
