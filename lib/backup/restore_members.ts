/**
 * The members phase of a backup restore (restore_job.ts): live members in user-id order from the
 * checkpoint's cursor, 1000 a page; each member's missing roles (and with rewind, the roles gained
 * since) are written through the member-role writer (discord/member_roles.ts) with one call: a
 * single-role PUT/DELETE when one role changes, else a PATCH of the whole list computed from the
 * page just read. PATCHes and role PUT/DELETEs go through two lanes, as Discord keeps them in
 * separate buckets; the checkpoint's cursor only moves over a contiguous run of finished members
 * (jobs/checkpoint.ts), and a resumed page recomputes every change from fresh data, so a write
 * that landed is never repeated.
 */
import type { APIGuildMember } from "discord-api-types/v10";
import { listMembers } from "../discord/api.ts";
import { callsFor, changeCount, cheapestRoute, sendRoleCall } from "../discord/member_roles.ts";
import { CheckpointTracker } from "../jobs/checkpoint.ts";
import { MEMBER_PAGE } from "./capture.ts";
import type { SnapMember } from "./model.ts";
import {
  assignableRoles,
  type LiveGuild,
  matchRoles,
  type MemberChange,
  memberChange,
} from "./restore_plan.ts";
import { describe, type RestoreRun } from "./restore_run.ts";

const LANE_CONCURRENCY = 4;
const CHECKPOINT_MS = 1_000;

/** False when the chunk must stop before every member is done. */
export async function restoreMembers(run: RestoreRun, live: LiveGuild): Promise<boolean> {
  const { deps, job, snapshot, guildId } = run;
  // Creating and moving roles shifts positions: take the bot's from the current role list.
  const top = live.roles.find((r) => r.id === live.botTopId);
  if (top && live.botTopPosition !== Number.MAX_SAFE_INTEGER) live.botTopPosition = top.position;
  const roleMap = matchRoles(snapshot.roles, live);
  const assignable = assignableRoles(live);
  let handled = 0;
  while (!job.signal.aborted && handled < job.limit) {
    const page = await listMembers(deps.rest, guildId, {
      limit: MEMBER_PAGE,
      after: run.cp.cursor,
    }, { signal: job.hard });
    const finished = await restorePage(run, page, run.backedUp, roleMap, assignable);
    handled += finished;
    if (finished < page.length) return false;
    if (page.length < MEMBER_PAGE) return true;
  }
  return false;
}

type Outcome = { counters: Record<string, number>; warning?: string };

/** Processes one page; returns how many members (a prefix of the page) are done. */
async function restorePage(
  run: RestoreRun,
  page: APIGuildMember[],
  backedUp: Map<string, SnapMember>,
  roleMap: Map<string, string>,
  assignable: Set<string>,
): Promise<number> {
  const { deps, job, guildId } = run;
  const rewind = run.cp.rewind;
  const outcomes: (Outcome | null)[] = new Array(page.length).fill(null);
  const patchLane: number[] = [];
  const roleLane: number[] = [];
  const changes: MemberChange[] = [];
  page.forEach((m, i) => {
    const snap = m.user && !m.user.bot ? backedUp.get(m.user.id) : undefined;
    if (!m.user || m.user.bot) {
      outcomes[i] = { counters: { "members.bots": 1 } };
    } else if (!snap) {
      outcomes[i] = { counters: { "members.not_in_backup": 1 } };
    } else {
      const change = memberChange(snap, m.roles, roleMap, assignable, rewind);
      changes[i] = change;
      if (changeCount(change) === 0) outcomes[i] = { counters: { "members.unchanged": 1 } };
      else (cheapestRoute(change) === "role" ? roleLane : patchLane).push(i);
    }
  });

  const write = async (i: number) => {
    const m = page[i];
    const userId = m.user!.id;
    const change = changes[i];
    const { add, remove } = change;
    // The cheapest route takes one call: a single-role call, or the PATCH.
    const [call] = callsFor(change, cheapestRoute(change));
    const to = { rest: deps.rest, guildId, userId, reason: run.reason, signal: job.hard };
    const outcome = await sendRoleCall(to, call, m.roles, change);
    switch (outcome.kind) {
      case "done":
        outcomes[i] = {
          counters: {
            "members.changed": 1,
            ...(add.length ? { "members.roles_added": add.length } : {}),
            ...(remove.length ? { "members.roles_removed": remove.length } : {}),
          },
        };
        return;
      case "stopped":
        return; // not done: the next chunk re-reads and redoes it
      case "gone":
        outcomes[i] = { counters: { "members.left": 1 } };
        return;
      default:
        outcomes[i] = {
          counters: { "failed.members": 1 },
          warning: `member ${userId}: ${describe(outcome.error)}`,
        };
    }
  };

  // The cursor only moves over a contiguous prefix of finished members.
  const progress = new CheckpointTracker<number>({
    clock: deps.clock,
    isDone: (i) => outcomes[i] !== null,
    everyMs: CHECKPOINT_MS,
  });
  page.forEach((_, i) => progress.push(i));
  let prefix = 0;
  // One commit at a time: two workers must not commit the same stretch twice.
  const flush = (force: boolean): Promise<void> =>
    progress.commit(async () => {
      if (!force && !progress.due()) return;
      const done = progress.take();
      if (done.length === 0) return;
      const counters: Record<string, number> = {};
      const warnings: string[] = [];
      for (const i of done) {
        const o = outcomes[i]!;
        for (const [k, v] of Object.entries(o.counters)) counters[k] = (counters[k] ?? 0) + v;
        if (o.warning) warnings.push(o.warning);
      }
      prefix += done.length;
      run.cp.cursor = page[prefix - 1].user?.id ?? run.cp.cursor;
      progress.mark();
      await job.checkpoint({
        processed: done.length,
        counters,
        warnings,
        checkpoint: run.cp,
        cursor: run.cp.cursor,
      });
    });
  const lane = async (items: number[]) => {
    let next = 0;
    const worker = async () => {
      while (next < items.length && !job.signal.aborted) {
        await write(items[next++]);
        await flush(false);
      }
    };
    await Promise.all(Array.from({ length: LANE_CONCURRENCY }, worker));
  };
  await Promise.all([lane(patchLane), lane(roleLane)]);
  await flush(true);
  return prefix;
}
