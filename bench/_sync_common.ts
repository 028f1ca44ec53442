/**
 * What the sync benchmarks share: the cases' emulator limits and each member's change count under
 * the bench's role rule (five score tiers and the profile role, for verified members).
 */
import type { Emulator, EmulatorLimits } from "../tests/emulator/server.ts";
import type { LimitSpec } from "../lib/sync/scheduler.ts";

/** An emulator host process ends (its admin server and the emulator closed) on SIGTERM. */
export function closeOnSigterm(admin: Deno.HttpServer, emu: Emulator): void {
  Deno.addSignalListener("SIGTERM", async () => {
    await admin.shutdown();
    await emu.close();
    Deno.exit(0);
  });
}

/**
 * a: every limit 50/s; b: Discord-like buckets; t: tight write buckets (5 per 1 s);
 * ga / gb: several guilds at once, with a's / b's limits per guild and one global limit.
 */
export interface Case {
  kind: "a" | "b" | "t" | "ga" | "gb";
  members: number;
  scale: number;
}

export function limitsFor(c: Case): Required<EmulatorLimits> {
  const s = c.scale;
  const w = (limit: number, windowMs: number) => ({ limit, windowMs: windowMs / s });
  if (c.kind === "a" || c.kind === "ga") {
    const x = w(50, 1000);
    return {
      global: 50 * s,
      memberPatch: x,
      memberRole: x,
      memberList: x,
      memberGet: x,
      default: x,
      commandCreatesPerDay: 200,
      followUp: w(5, 2000),
    };
  }
  const writes = c.kind === "t" ? w(5, 1000) : w(10, 10_000);
  return {
    global: 50 * s,
    memberPatch: writes,
    memberRole: writes,
    memberList: w(10, 10_000),
    memberGet: w(5, 1000),
    default: w(50, 1000),
    commandCreatesPerDay: 200,
    followUp: w(5, 2000),
  };
}

/** The scheduler's view of a case's limits (for its time-optimal bound). */
export function specFor(c: Case): LimitSpec {
  const l = limitsFor(c);
  return { patch: l.memberPatch, role: l.memberRole, list: l.memberList, global: l.global };
}

/** A small deterministic PRNG (mulberry32): runs with one seed pick the same inputs. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each member's change count k (> 0 only), as the rule says, from the emulator's state. */
export function changeCounts(emu: Emulator, guildId: string): number[] {
  const g = emu.state.guild(guildId);
  const r = g.ethosRoles!;
  const tiers = [
    [r.exemplary, 2000],
    [r.reputable, 1800],
    [r.neutral, 1200],
    [r.questionable, 800],
    [r.untrusted, 0],
  ] as const;
  const managed = new Set([...tiers.map((t) => t[0] as string), r.profile]);
  const out: number[] = [];
  for (const m of g.members.values()) {
    if (m.bot) continue;
    let want: string[] = [];
    if (m.roles.includes(r.verified)) {
      const score = emu.state.score(m.id);
      if (score !== undefined) {
        want = [tiers.find((t) => score >= t[1])![0], r.profile];
      }
    }
    const has = m.roles.filter((x) => managed.has(x));
    const k = want.filter((x) => !has.includes(x)).length +
      has.filter((x) => !want.includes(x)).length;
    if (k > 0) out.push(k);
  }
  return out;
}

/** Calls an operator route of the bot in-process, as `curl -H "Authorization: Bearer …"` would. */
export function operatorCall(handle: (req: Request) => Promise<Response>, token: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await handle(
      new Request(`http://bench${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return await res.json();
  };
}

/**
 * A KV handle whose operations (each `commit`, and get, getMany, set, delete, list) go through
 * `around(name, run)`: for counting them, or retrying them.
 */
export function interceptKv(
  kv: Deno.Kv,
  around: (name: string, run: () => unknown) => unknown,
): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      const member = Reflect.get(target, prop, target);
      if (typeof member !== "function") return member;
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => around("atomic", commit) as ReturnType<typeof commit>;
          return op;
        };
      }
      if (["get", "getMany", "set", "delete", "list"].includes(String(prop))) {
        return (...a: unknown[]) => around(String(prop), () => member.apply(target, a));
      }
      return member.bind(target);
    },
  });
}
