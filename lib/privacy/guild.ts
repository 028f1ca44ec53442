/**
 * What the bot keeps about a member per guild: the role sync's index of validator and human role
 * holders, the member's line in the last sync run's summary sample, and the guild's setup when
 * the member was the last to change it.
 */
import type { PrivacySource } from "./inventory.ts";
import { holderKey } from "../sync/holders.ts";
import { SYNC_KIND } from "../sync/service.ts";
import { keys } from "../kv/keys.ts";
import { runRecordSchema } from "../jobs/store.ts";
import { getSetup } from "../guilds/setup.ts";
import { isIndexed, noteMembers } from "../sync/member_index.ts";
import { freshKeys } from "../jobs/fresh_backlog.ts";

export const holderIndexSource: PrivacySource = {
  name: "Role sync index (validator and human roles)",
  async view(deps, guildId, userId) {
    const held = guildId && (await deps.kv.get(holderKey(guildId, userId))).versionstamp !== null;
    return {
      name: this.name,
      items: held
        ? ["listed as holding a validator or human role here, so the hourly sync re-checks it"]
        : [],
      retention: "while you hold such a role; the next sync that sees you without it removes you",
    };
  },
  async delete(deps, guildId, userId) {
    if (!guildId) return 0;
    const key = holderKey(guildId, userId);
    if ((await deps.kv.get(key)).versionstamp === null) return 0;
    // The next full sync lists the member again if they still hold the role.
    await deps.kv.delete(key);
    return 1;
  },
};

/** Whether a sample line (`{userId, username, add, remove}`) names the member. */
const names = (line: unknown, userId: string) =>
  (line as { userId?: unknown } | null)?.userId === userId;

export const lastRunSource: PrivacySource = {
  name: "Last role sync run (its summary sample)",
  async view(deps, guildId, userId) {
    const items: string[] = [];
    if (guildId) {
      const parsed = runRecordSchema.safeParse(
        (await deps.kv.get(keys.jobRun(SYNC_KIND, guildId))).value,
      );
      if (parsed.success && parsed.data.sample.some((l) => names(l, userId))) {
        items.push(
          `named among the members the run of ${
            new Date(parsed.data.startedAt).toISOString()
          } changed (user id, name, roles added and removed)`,
        );
      }
    }
    return { name: this.name, items, retention: "until this server's next sync run" };
  },
  async delete(deps, guildId, userId) {
    if (!guildId) return 0;
    const key = keys.jobRun(SYNC_KIND, guildId);
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await deps.kv.get(key);
      const parsed = runRecordSchema.safeParse(entry.value);
      if (!parsed.success) return 0;
      const sample = parsed.data.sample.filter((l) => !names(l, userId));
      const drop = parsed.data.sample.length - sample.length;
      if (drop === 0) return 0;
      const ok = await deps.kv.atomic().check(entry).set(key, { ...parsed.data, sample }).commit();
      if (ok.ok) return drop;
    }
    throw new Error("the sync run changed too often while deleting; try again");
  },
};

export const memberIndexSource: PrivacySource = {
  name: "Role sync member index and score-change queue",
  async view(deps, guildId, userId) {
    const items: string[] = [];
    const { kv } = deps;
    if (guildId && /^\d{17,20}$/.test(userId) && await isIndexed(kv, guildId, userId)) {
      items.push(
        "listed as a member of this server with the Ethos roles you hold, so a score change reaches your roles within minutes",
      );
    }
    if (guildId && (await kv.get(freshKeys.backlog(guildId, userId))).versionstamp !== null) {
      items.push("a change of your Ethos score waiting to be written to your roles here");
    }
    if ((await kv.get(freshKeys.seen(userId))).versionstamp !== null) {
      items.push("the time of your latest Ethos score change (so it is applied once)");
    }
    return {
      name: this.name,
      items,
      retention:
        "the index until the next full sync of the server lists you again; the queue until your roles are written; the change time for a day",
    };
  },
  async delete(deps, guildId, userId) {
    const { kv } = deps;
    let n = 0;
    if (guildId && /^\d{17,20}$/.test(userId) && await isIndexed(kv, guildId, userId)) {
      // Until the next full sync lists the member again, their score changes wait for it.
      await noteMembers(kv, guildId, new Map([[userId, "absent"]]), null);
      n++;
    }
    const keys = [freshKeys.seen(userId), ...(guildId ? [freshKeys.backlog(guildId, userId)] : [])];
    for (const key of keys) {
      if ((await kv.get(key)).versionstamp === null) continue;
      await kv.delete(key);
      n++;
    }
    return n;
  },
};

export const setupAuthorSource: PrivacySource = {
  name: "This server's Ethos setup",
  async view(deps, guildId, userId) {
    const setup = guildId ? await getSetup(deps.kv, guildId) : null;
    return {
      name: this.name,
      items: setup?.updatedBy === userId
        ? [`you made its latest change (version ${setup.version})`]
        : [],
      retention: "until the next change to the setup",
      keptBecause:
        "the server's configuration records who changed it last (the audit log keeps the history)",
    };
  },
};
