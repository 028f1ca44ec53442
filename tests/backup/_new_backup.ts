/** A new backup's index fields for the tests that save backups straight into the store. */
import type { NewBackup } from "../../lib/backup/store.ts";

/** The guild of these backups (and of the sample snapshot). */
export const G = "200000000000000001";

/** Backup `id` of guild G, made at `createdAt` by `source` ("command", "schedule"). */
export function newBackup(id: string, createdAt: number, source = "command"): NewBackup {
  return {
    id,
    guildId: G,
    label: `label ${id}`,
    authorId: "1",
    authorName: "a",
    source,
    createdAt,
    memberCount: 1,
    roleCount: 1,
    channelCount: 1,
    runId: null,
  };
}
