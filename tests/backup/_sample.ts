/** A small hand-written snapshot for the pure tests. */
import type { Snapshot } from "../../lib/backup/model.ts";

export function sampleSnapshot(): Snapshot {
  return {
    v: 1,
    guild: {
      id: "200000000000000001",
      name: "G",
      description: null,
      verification_level: 1,
      default_message_notifications: 1,
      explicit_content_filter: 2,
      afk_channel_id: null,
      afk_timeout: 300,
      system_channel_id: "400000000000000003",
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      preferred_locale: "en-US",
      premium_progress_bar_enabled: false,
    },
    roles: [
      role("200000000000000001", "@everyone", 0),
      role("300000000000000002", "Mods", 2),
      role("300000000000000001", "Members", 1),
    ],
    channels: [
      {
        id: "400000000000000003",
        type: 0,
        name: "general",
        position: 1,
        parent_id: "400000000000000001",
        nsfw: false,
        topic: "hi",
        rate_limit_per_user: 0,
        permission_overwrites: [
          { id: "300000000000000002", type: 0, allow: "1024", deny: "0" },
          { id: "200000000000000001", type: 0, allow: "0", deny: "2048" },
        ],
      },
      {
        id: "400000000000000001",
        type: 4,
        name: "Text",
        position: 0,
        parent_id: null,
        nsfw: false,
        permission_overwrites: [],
      },
    ],
    emojis: [],
    stickers: [],
    members: [
      { id: "900000000000000002", roles: ["300000000000000002", "300000000000000001"] },
      { id: "90000000000000001", roles: [] },
    ],
    bot: { flags: { backups: true }, commandRoles: { b: ["1"], a: ["2"] }, schedule: null },
  };
}

function role(id: string, name: string, position: number) {
  return {
    id,
    name,
    color: 0,
    hoist: false,
    mentionable: false,
    permissions: "0",
    position,
    managed: false,
    unicode_emoji: null,
    icon: null,
  };
}
