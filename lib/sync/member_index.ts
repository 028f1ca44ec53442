/**
 * Who is in a guild, and which of the sync's roles they hold, as the last full sync left them:
 * so the freshness pass can tell a changed user's guilds and write their roles with no Discord
 * read. Compact: one KV entry per range of up to 1,000 members in user-id order (about 25 KB),
 * 100 entries for a guild of 100,000.
 *
 * - A full run builds a generation (its run id) as its members are done, in walk order; the
 *   entry keyed by a range's last id (a bigint, so keys sort like snowflakes) covers the ids after
 *   `from` up to it. The run's end writes a last entry up to 2^64, so an id past the last member
 *   reads as "not a member", then makes the generation current and deletes the one before.
 * - Roles kept are the ones that decide the rule (managed and verified), as they are after the
 *   run's writes; a member whose outcome left them unknown (a refused or raced write) is kept as
 *   unknown. `rolesKey` fingerprints that set: rules changed since make the index unknown.
 * - Every other writer (the freshness pass, the incremental run, /ethos_refresh) notes the roles
 *   it left, so the index stays what Discord has, as far as the bot knows.
 * - Lookups answer member (with roles), absent, or unknown (no covering range, a generation older
 *   than `INDEX_MAX_AGE_MS`, other rules); unknown costs the caller one member read.
 */
import { z } from "zod";
import { managedRoles, type SyncRules } from "./rule.ts";

const PREFIX = "member_index";
const META = "member_index_meta";
/** Members per entry: ~25 KB with their ids, well under KV's 64 KiB value limit. */
export const INDEX_RANGE = 1000;
/** Older than this, the index is not trusted (a missed daily run leaves it at most 2 days old). */
export const INDEX_MAX_AGE_MS = 48 * 3_600_000;
const END = 2n ** 64n;
const DELETES_PER_COMMIT = 500;

const metaSchema = z.object({
  /** The complete generation lookups read. */
  current: z.object({ gen: z.string(), builtAt: z.number(), rolesKey: z.string() }).nullable(),
  /** The generation a full run is building: ids up to `cursor` are in it. */
  building: z.object({ gen: z.string(), cursor: z.string(), rolesKey: z.string() }).nullable(),
});
export type IndexMeta = z.infer<typeof metaSchema>;

const entrySchema = z.object({
  from: z.string(),
  ids: z.array(z.string()),
  /** Per member: indexes into `table`, or null when their roles are unknown. */
  roles: z.array(z.array(z.number().int()).nullable()),
  table: z.array(z.string()),
});
type Entry = z.infer<typeof entrySchema>;

export const indexKeys = {
  meta: (guildId: string): Deno.KvKey => [META, guildId],
  of: (guildId: string): Deno.KvKey => [PREFIX, guildId],
  gen: (guildId: string, gen: string): Deno.KvKey => [PREFIX, guildId, gen],
  entry: (guildId: string, gen: string, last: bigint): Deno.KvKey => [PREFIX, guildId, gen, last],
};

/** The roles the index keeps: the ones the rule reads (managed and verified). */
export function indexedRoles(rules: SyncRules): Set<string> {
  const out = managedRoles(rules);
  if (rules.verifiedRoleId) out.add(rules.verifiedRoleId);
  return out;
}

/** The roles the index keeps, fingerprinted. */
export function rolesKeyOf(relevant: ReadonlySet<string>): string {
  return [...relevant].sort().join(",");
}

export type Indexed =
  | { state: "member"; roles: string[] }
  | { state: "absent" }
  | { state: "unknown" };

/** A member as a writer leaves them: relevant roles, null when unknown, "absent" when gone. */
export type Noted = string[] | null | "absent";

async function readMeta(kv: Deno.Kv, guildId: string) {
  const e = await kv.get(indexKeys.meta(guildId));
  const parsed = metaSchema.safeParse(e.value);
  return { entry: e, meta: parsed.success ? parsed.data : { current: null, building: null } };
}

/** The entry whose range covers `id` in a generation, or null. */
async function covering(kv: Deno.Kv, guildId: string, gen: string, id: bigint) {
  const it = kv.list({
    start: indexKeys.entry(guildId, gen, id),
    end: [...indexKeys.gen(guildId, gen), END + 1n],
  }, {
    limit: 1,
  });
  for await (const e of it) {
    const parsed = entrySchema.safeParse(e.value);
    if (parsed.success && BigInt(parsed.data.from) < id) return { kv: e, value: parsed.data };
  }
  return null;
}

function answer(entry: Entry, id: string): Indexed {
  const i = entry.ids.indexOf(id);
  if (i < 0) return { state: "absent" };
  const r = entry.roles[i];
  return r ? { state: "member", roles: r.map((j) => entry.table[j]) } : { state: "unknown" };
}

/** The generations to read for `id`, newest first (the one being built, when it got that far). */
function gensFor(meta: IndexMeta, id: bigint, rolesKey: string, now: number): string[] {
  const out: string[] = [];
  const b = meta.building;
  if (b && b.rolesKey === rolesKey && BigInt(b.cursor) >= id) out.push(b.gen);
  const c = meta.current;
  if (c && c.rolesKey === rolesKey && now - c.builtAt <= INDEX_MAX_AGE_MS) out.push(c.gen);
  return out;
}

/** What the index knows of each id in a guild (ids must be snowflakes). */
export async function lookupMembers(
  kv: Deno.Kv,
  guildId: string,
  ids: readonly string[],
  rolesKey: string,
  now: number,
): Promise<Map<string, Indexed>> {
  const { meta } = await readMeta(kv, guildId);
  const out = new Map<string, Indexed>();
  await Promise.all(ids.map(async (id) => {
    let found: Indexed = { state: "unknown" };
    for (const gen of gensFor(meta, BigInt(id), rolesKey, now)) {
      const e = await covering(kv, guildId, gen, BigInt(id));
      if (e) {
        found = answer(e.value, id);
        break;
      }
    }
    out.set(id, found);
  }));
  return out;
}

/**
 * Records what writers outside a full run left (see Noted). Only members a covering range knows
 * are changed: an id no range covers stays unknown. Each entry is rewritten with a versionstamp
 * check (retried), so concurrent notes never lose one another.
 */
export async function noteMembers(
  kv: Deno.Kv,
  guildId: string,
  notes: ReadonlyMap<string, Noted>,
  /** Only generations kept for these roles; null: every generation (a member's data deleted). */
  rolesKey: string | null,
): Promise<void> {
  if (notes.size === 0) return;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { meta } = await readMeta(kv, guildId);
    const gens = [meta.building, meta.current]
      .filter((g) => g && (rolesKey === null || g.rolesKey === rolesKey)).map((g) => g!.gen);
    let conflict = false;
    for (const gen of gens) {
      const byEntry = new Map<
        string,
        { e: NonNullable<Awaited<ReturnType<typeof covering>>>; ids: string[] }
      >();
      for (const id of notes.keys()) {
        const e = await covering(kv, guildId, gen, BigInt(id));
        if (!e || !e.value.ids.includes(id)) continue;
        const k = String(e.kv.key[3]);
        const slot = byEntry.get(k) ?? { e, ids: [] };
        slot.ids.push(id);
        byEntry.set(k, slot);
      }
      for (const { e, ids } of byEntry.values()) {
        const value = rewrite(e.value, ids, notes);
        const ok = await kv.atomic().check(e.kv).set(e.kv.key, value).commit();
        if (!ok.ok) conflict = true;
      }
    }
    if (!conflict) return;
  }
}

function rewrite(entry: Entry, ids: string[], notes: ReadonlyMap<string, Noted>): Entry {
  const members = entry.ids.map((id, i) => ({
    id,
    roles: entry.roles[i] ? entry.roles[i]!.map((j) => entry.table[j]) : null,
  }));
  const out: { id: string; roles: string[] | null }[] = [];
  for (const m of members) {
    if (!ids.includes(m.id)) out.push(m);
    else {
      const n = notes.get(m.id)!;
      if (n !== "absent") out.push({ id: m.id, roles: n });
    }
  }
  return encode(entry.from, out);
}

function encode(from: string, members: readonly { id: string; roles: string[] | null }[]): Entry {
  const table: string[] = [];
  const at = new Map<string, number>();
  const roles = members.map((m) =>
    m.roles === null ? null : m.roles.map((r) => {
      let j = at.get(r);
      if (j === undefined) {
        j = table.length;
        table.push(r);
        at.set(r, j);
      }
      return j;
    })
  );
  return { from, ids: members.map((m) => m.id), roles, table };
}

/**
 * Builds a full run's generation as its members are done, in user-id order. The engine adds
 * members as its done prefix advances, writes the full ranges at its checkpoints, and the open
 * one when the chunk ends (so ranges stay near 1,000 members however often it checkpoints).
 */
export class IndexBuilder {
  #from: string;
  #members: { id: string; roles: string[] | null }[] = [];
  #closed: { last: bigint; entry: Entry }[] = [];
  readonly #rolesKey: string;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly guildId: string,
    private readonly gen: string,
    private readonly relevant: ReadonlySet<string>,
    /** The run's cursor when this chunk started: the first range begins after it. */
    cursor: string,
  ) {
    this.#from = cursor;
    this.#rolesKey = rolesKeyOf(relevant);
  }

  /** A member done by the run (roles as they now are; null when unknown). */
  add(id: string, roles: readonly string[] | null): void {
    this.#members.push({ id, roles: roles ? roles.filter((r) => this.relevant.has(r)) : null });
    if (this.#members.length >= INDEX_RANGE) this.#close(id);
  }

  #close(last: string): void {
    this.#closed.push({ last: BigInt(last), entry: encode(this.#from, this.#members) });
    this.#from = last;
    this.#members = [];
  }

  /** Writes the full ranges (a checkpoint). */
  async flush(now: number): Promise<void> {
    if (this.#closed.length) await this.#write(false, now);
  }

  /**
   * The chunk ends: writes the open range too. `finished`: the run walked every member; the range
   * up to 2^64 closes and the generation becomes current (the one before is deleted).
   */
  async end(finished: boolean, now: number): Promise<void> {
    const last = this.#members.at(-1);
    if (last) this.#close(last.id);
    if (finished) {
      this.#closed.push({ last: END, entry: encode(this.#from, []) });
      this.#from = END.toString();
    }
    if (this.#closed.length || finished) await this.#write(finished, now);
  }

  async #write(finished: boolean, now: number): Promise<void> {
    const closed = this.#closed;
    this.#closed = [];
    for (const c of closed) {
      await this.kv.set(indexKeys.entry(this.guildId, this.gen, c.last), c.entry);
    }
    const cursor = closed.at(-1)!.last.toString();
    for (let attempt = 0; attempt < 5; attempt++) {
      const { entry, meta } = await readMeta(this.kv, this.guildId);
      const drop: string[] = [];
      // A building generation another run left behind goes with this one's first write.
      if (meta.building && meta.building.gen !== this.gen) drop.push(meta.building.gen);
      let next: IndexMeta;
      if (finished) {
        if (meta.current && meta.current.gen !== this.gen) drop.push(meta.current.gen);
        next = {
          current: { gen: this.gen, builtAt: now, rolesKey: this.#rolesKey },
          building: null,
        };
      } else {
        next = { ...meta, building: { gen: this.gen, cursor, rolesKey: this.#rolesKey } };
      }
      const ok = await this.kv.atomic().check(entry).set(indexKeys.meta(this.guildId), next)
        .commit();
      if (!ok.ok) continue;
      for (const gen of drop) await deleteGeneration(this.kv, this.guildId, gen);
      return;
    }
  }
}

/** Deletes one generation's entries (after the meta no longer names it). */
async function deleteGeneration(kv: Deno.Kv, guildId: string, gen: string): Promise<void> {
  let op = kv.atomic();
  let n = 0;
  for await (const e of kv.list({ prefix: indexKeys.gen(guildId, gen) })) {
    op.delete(e.key);
    if (++n % DELETES_PER_COMMIT === 0) {
      await op.commit();
      op = kv.atomic();
    }
  }
  if (n % DELETES_PER_COMMIT) await op.commit();
}

/** Whether the index names a member (any generation): for /privacy. */
export async function isIndexed(kv: Deno.Kv, guildId: string, userId: string): Promise<boolean> {
  const { meta } = await readMeta(kv, guildId);
  for (const g of [meta.building, meta.current]) {
    if (!g) continue;
    const e = await covering(kv, guildId, g.gen, BigInt(userId));
    if (e?.value.ids.includes(userId)) return true;
  }
  return false;
}
