/**
 * Write scheduling, pure. A member's role changes can go out as one member PATCH (the full role
 * list) or as one PUT/DELETE per changed role. Discord keeps the two routes in separate per-guild
 * buckets, and every call also counts toward the bot's global limit, so when writes are the
 * bottleneck the fastest plan keeps both buckets busy:
 *
 *   makespan = max(P / rate_patch, K_R / rate_role, (P + K_R) / rate_global)
 *
 * where P members go by PATCH and the others by role calls, K_R being the sum of their change
 * counts k. For a fixed number m of members on the role route, K_R is smallest when they are the
 * m members with the fewest changes, so the optimum is one of the n + 1 prefixes of the members
 * sorted by k ascending: evaluate each in O(1) with a running sum. Ties go to fewer calls, then to
 * more members on the role route (a single-role call needs no fresh read, see engine.ts).
 *
 * When the global limit binds, one PATCH per member (k calls become 1) is what the optimum picks
 * for every member with k > 1; members with k = 1 cost one call either way.
 *
 * `backlog` carries the calls already given to each lane, so the engine can split page after page
 * online and both lanes end together.
 */

export interface LaneRates {
  /** Member PATCH requests per second (per guild bucket). */
  patch: number;
  /** Member role PUT/DELETE requests per second (one shared per-guild bucket). */
  role: number;
  /** The bot's global requests per second, for every route. */
  global: number;
}

/** Calls already given to each lane; `global` counts other calls (reads). */
export interface Backlog {
  patch: number;
  role: number;
  global: number;
}

export type Binding = "patch" | "role" | "global" | "none";

export interface Split {
  /** Per input item: true when it goes by single-role calls. */
  toRole: boolean[];
  /** Members by PATCH (P). */
  patchCalls: number;
  /** Single-role calls (K_R). */
  roleCalls: number;
  /** Seconds until both lanes are done, backlog included, at the given rates. */
  makespan: number;
  /** Which limit decides the makespan. */
  binding: Binding;
}

const EPS = 1e-9;

export function makespanOf(
  patchCalls: number,
  roleCalls: number,
  rates: LaneRates,
  backlog: Backlog = { patch: 0, role: 0, global: 0 },
): { makespan: number; binding: Binding } {
  const p = (backlog.patch + patchCalls) / rates.patch;
  const r = (backlog.role + roleCalls) / rates.role;
  const g = (backlog.global + backlog.patch + backlog.role + patchCalls + roleCalls) / rates.global;
  const makespan = Math.max(p, r, g, 0);
  if (makespan === 0) return { makespan, binding: "none" };
  const binding: Binding = g >= makespan - EPS ? "global" : p >= r ? "patch" : "role";
  return { makespan, binding };
}

/**
 * The split of `changes` (each member's change count k >= 1) between the two routes that ends the
 * soonest. Members with k = 0 need no write and are never given one. Within a class of equal k,
 * the first members (by index) go by role calls.
 */
export function splitWrites(
  changes: readonly number[],
  rates: LaneRates,
  backlog: Backlog = { patch: 0, role: 0, global: 0 },
): Split {
  const best = splitCounts(histogram(changes), rates, backlog);
  return { ...assign(changes, best.toRole), makespan: best.makespan, binding: best.binding };
}

/** Writers per change count: `counts[k]` members need k changes. */
function histogram(changes: readonly number[]): number[] {
  const counts: number[] = [];
  for (const k of changes) counts[k] = (counts[k] ?? 0) + 1;
  return Array.from(counts, (c) => c ?? 0);
}

/** Sends the first `take[k]` writers of each class k by role calls, the others by PATCH. */
function assign(
  changes: readonly number[],
  take: readonly number[],
): Pick<Split, "toRole" | "patchCalls" | "roleCalls"> {
  const left = [...take];
  let patchCalls = 0;
  let roleCalls = 0;
  const toRole = changes.map((k) => {
    if (k <= 0) return false;
    if ((left[k] ?? 0) > 0) {
      left[k]--;
      roleCalls += k;
      return true;
    }
    patchCalls++;
    return false;
  });
  return { toRole, patchCalls, roleCalls };
}

/**
 * Time for `calls` requests through a bucket of `limit` per `windowMs` that starts full: the
 * first `limit` go at once, each later group one window after the previous one.
 */
export function windowedMs(calls: number, limit: number, windowMs: number): number {
  if (calls <= 0) return 0;
  return (Math.ceil(calls / limit) - 1) * windowMs;
}

export interface BucketSpec {
  limit: number;
  windowMs: number;
}

export interface LimitSpec {
  patch: BucketSpec;
  role: BucketSpec;
  list: BucketSpec;
  /** Requests per second. */
  global: number;
}

/** Lane rates (calls per second) from bucket limits and the global limit. */
export function ratesOf(limits: Pick<LimitSpec, "patch" | "role" | "global">): LaneRates {
  return {
    patch: limits.patch.limit * 1000 / limits.patch.windowMs,
    role: limits.role.limit * 1000 / limits.role.windowMs,
    global: limits.global,
  };
}

export interface Bound {
  /** Milliseconds no client can beat under these limits. */
  ms: number;
  patchCalls: number;
  roleCalls: number;
  listCalls: number;
  binding: Binding | "list";
}

/**
 * The rate-limit-bound minimum of a whole sync: the best split of the needed writes between the
 * two buckets, the member list pages (1000 members each), and the global limit over all of them
 * (`otherCalls`: setup reads). Buckets start full.
 */
export function syncLowerBound(
  changes: readonly number[],
  members: number,
  limits: LimitSpec,
  otherCalls = 0,
): Bound {
  const rates = ratesOf(limits);
  const listCalls = Math.max(1, Math.ceil((members + 1) / 1000));
  const split = splitWrites(changes, rates, { patch: 0, role: 0, global: listCalls + otherCalls });
  // The split above uses rates; evaluate it (and its neighbours' best) with full windows.
  const patchMs = windowedMs(split.patchCalls, limits.patch.limit, limits.patch.windowMs);
  const roleMs = windowedMs(split.roleCalls, limits.role.limit, limits.role.windowMs);
  const listMs = windowedMs(listCalls, limits.list.limit, limits.list.windowMs);
  const total = split.patchCalls + split.roleCalls + listCalls + otherCalls;
  const globalMs = windowedMs(total, limits.global, 1000);
  const ms = Math.max(patchMs, roleMs, listMs, globalMs);
  const binding = ms === 0
    ? "none"
    : ms === globalMs
    ? "global"
    : ms === listMs
    ? "list"
    : ms === patchMs
    ? "patch"
    : "role";
  return { ms, patchCalls: split.patchCalls, roleCalls: split.roleCalls, listCalls, binding };
}

/**
 * The optimum over a histogram: `counts[k]` writers need k changes. Returns how many of each class
 * go by role calls. By the prefix rule above only "all classes below t, and j of class t" can be
 * best, and inside one class the lane times are linear in j, so only its ends and the points next
 * to where they cross are evaluated: O(classes). Equal makespans: fewer calls, then (equal calls)
 * more members on the role route.
 */
export function splitCounts(
  counts: readonly number[],
  rates: LaneRates,
  backlog: Backlog = { patch: 0, role: 0, global: 0 },
): { toRole: number[]; patchCalls: number; roleCalls: number; makespan: number; binding: Binding } {
  const writers = counts.reduce((n, c, k) => n + (k > 0 ? c : 0), 0);
  let best = { k: 0, j: 0, ...makespanOf(writers, 0, rates, backlog), calls: writers };
  let moved = 0; // members of the lower classes on the role route
  let roleCalls = 0;
  for (let k = 1; k < counts.length; k++) {
    const n = counts[k] ?? 0;
    if (n === 0) continue;
    // Lane times at j: patch (writers - moved - j) / rp, role (roleCalls + j k) / rr, global
    // (writers - moved + roleCalls + j (k - 1)) / rg; patch falls, the others rise.
    const candidates = new Set<number>([1, n]);
    const pb = backlog.patch + writers - moved;
    const rb = backlog.role + roleCalls;
    const crossRole = (pb / rates.patch - rb / rates.role) / (1 / rates.patch + k / rates.role);
    const gb = backlog.global + backlog.patch + backlog.role + writers - moved + roleCalls;
    const crossGlobal = (pb / rates.patch - gb / rates.global) /
      (1 / rates.patch + (k - 1) / rates.global);
    for (const x of [crossRole, crossGlobal]) {
      if (!Number.isFinite(x)) continue;
      for (const j of [Math.floor(x) - 1, Math.floor(x), Math.ceil(x), Math.ceil(x) + 1]) {
        if (j >= 1 && j <= n) candidates.add(j);
      }
    }
    for (const j of [...candidates].sort((a, b) => a - b)) {
      const patchCalls = writers - moved - j;
      const role = roleCalls + j * k;
      const t = makespanOf(patchCalls, role, rates, backlog);
      const calls = patchCalls + role;
      const better = t.makespan < best.makespan - EPS ||
        (Math.abs(t.makespan - best.makespan) <= EPS && calls <= best.calls);
      if (better) best = { k, j, ...t, calls };
    }
    moved += n;
    roleCalls += n * k;
  }
  const toRole = counts.map((c, k) => k === 0 ? 0 : k < best.k ? c : k === best.k ? best.j : 0);
  const role = toRole.reduce((s, c, k) => s + c * k, 0);
  const onRole = toRole.reduce((s, c) => s + c, 0);
  return {
    toRole,
    patchCalls: writers - onRole,
    roleCalls: role,
    makespan: best.makespan,
    binding: best.binding,
  };
}

/**
 * Splits a run page by page, online, so that the run ends as the whole-run optimum would: every
 * page recomputes the optimum for all writers seen so far (by class, `splitCounts`) and moves to
 * the role route as many of the page's writers of each class as that optimum still lacks. Calls
 * already given to a lane cannot be taken back, so a page never moves more than the optimum
 * wants. A split made page by page against what is queued instead adds up each page's rounding.
 */
export class PagedSplit {
  #seen: number[] = [];
  #onRole: number[] = [];

  constructor(private rates: LaneRates) {}

  /** New rates (a bucket's real limit was learned); later pages follow them. */
  setRates(rates: LaneRates): void {
    this.rates = rates;
  }

  /** A writer with `k` changes was given a route outside `split`; later pages account for it. */
  record(k: number, toRole: boolean): void {
    if (k <= 0) return;
    this.#seen[k] = (this.#seen[k] ?? 0) + 1;
    if (toRole) this.#onRole[k] = (this.#onRole[k] ?? 0) + 1;
  }

  split(changes: readonly number[]): Split {
    const page = histogram(changes);
    for (let k = 1; k < page.length; k++) this.#seen[k] = (this.#seen[k] ?? 0) + page[k];
    const target = splitCounts(Array.from(this.#seen, (c) => c ?? 0), this.rates);
    const take: number[] = [];
    for (let k = 1; k < page.length; k++) {
      const want = (target.toRole[k] ?? 0) - (this.#onRole[k] ?? 0);
      take[k] = Math.max(0, Math.min(page[k], want));
      this.#onRole[k] = (this.#onRole[k] ?? 0) + take[k];
    }
    return { ...assign(changes, take), makespan: target.makespan, binding: target.binding };
  }
}
