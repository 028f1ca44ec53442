import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { admit, type GateRequest } from "../../lib/interactions/gate.ts";
import { IDEMPOTENCY_TTL_MS } from "../../lib/interactions/idempotency.ts";
import { keys } from "../../lib/kv/keys.ts";
import { listAll, withKv } from "../kv/_kv.ts";

const USER = "300000000000000001";
const GUILD = "200000000000000001";
const ROLE_A = "210000000000000001";
const ROLE_B = "210000000000000002";
const SPEC = { uses: 2, perMs: 5_000 };

let seq = 0;
const nextId = () => String(400000000000000000n + BigInt(++seq));

/** A gate request for `/ethos` at the clock's time, with what `extra` adds. */
function request(clock: ManualClock, extra: Partial<GateRequest> = {}): GateRequest {
  return {
    interactionId: nextId(),
    userId: USER,
    now: clock.now(),
    claim: false,
    language: "en",
    ...extra,
  };
}

const cooldown = { command: "ethos", userId: USER, spec: SPEC };

/** Every key the gate wrote, in key order. */
async function stored(kv: Deno.Kv) {
  const out: [Deno.KvKey, unknown][] = [];
  for (const prefix of [["idem"], ["cooldown"], ["cmd_roles"]]) {
    for (const e of await listAll(kv, prefix)) out.push([e.key, e.value]);
  }
  return out;
}

Deno.test("gate: a read-only command without cooldown or allow-list is admitted with no KV work", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const req = request(clock);
    assert.deepStrictEqual(await admit(kv, req), { kind: "admitted" });
    assert.deepStrictEqual(await admit(kv, req), { kind: "admitted" }, "its duplicate too");
    assert.deepStrictEqual(await stored(kv), []);
    // Not even a read: a KV that fails on any use is never touched.
    const untouchable = new Proxy({} as Deno.Kv, {
      get(_target, prop) {
        throw new Error(`the gate used kv.${String(prop)}`);
      },
    });
    assert.deepStrictEqual(await admit(untouchable, request(clock)), { kind: "admitted" });
  }));

Deno.test("gate: the first delivery claims the interaction id; a duplicate is recognised", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const req = request(clock, { claim: true });
    assert.deepStrictEqual(await admit(kv, req), { kind: "admitted" });
    assert.deepStrictEqual(await stored(kv), [
      [keys.idempotency(USER, req.interactionId), {
        expiresAt: clock.now() + IDEMPOTENCY_TTL_MS,
        value: { state: "pending" },
      }],
    ]);
    // While the first still runs: a duplicate, nothing to replay yet.
    clock.advance(1_000);
    assert.deepStrictEqual(await admit(kv, { ...req, now: clock.now() }), {
      kind: "duplicate",
      response: undefined,
    });
    // Another interaction of the same user is not a duplicate.
    assert.deepStrictEqual(await admit(kv, request(clock, { claim: true })), { kind: "admitted" });
  }));

Deno.test("gate: a duplicate gets the recorded response; an expired record no longer counts", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const req = request(clock, { claim: true });
    const response = { type: 4, data: { content: "hello" } };
    await kv.set(keys.idempotency(USER, req.interactionId), {
      expiresAt: clock.now() + IDEMPOTENCY_TTL_MS,
      value: { state: "done", response },
    });
    assert.deepStrictEqual(await admit(kv, req), { kind: "duplicate", response });
    clock.advance(IDEMPOTENCY_TTL_MS - 1);
    assert.deepStrictEqual(await admit(kv, { ...req, now: clock.now() }), {
      kind: "duplicate",
      response,
    });
    // Expired but not yet deleted by KV: the id may be claimed again, and is.
    clock.advance(1);
    assert.deepStrictEqual(await admit(kv, { ...req, now: clock.now() }), { kind: "admitted" });
    assert.deepStrictEqual((await kv.get(keys.idempotency(USER, req.interactionId))).value, {
      expiresAt: clock.now() + IDEMPOTENCY_TTL_MS,
      value: { state: "pending" },
    });
  }));

Deno.test("gate: concurrent deliveries of one interaction: exactly one is admitted", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const req = request(clock, { claim: true, cooldown });
    const results = await Promise.all([admit(kv, req), admit(kv, req), admit(kv, req)]);
    assert.deepStrictEqual(results.map((r) => r.kind).sort(), [
      "admitted",
      "duplicate",
      "duplicate",
    ]);
    // Counted once in the cooldown.
    assert.deepStrictEqual((await kv.get(keys.cooldown(USER, "ethos"))).value, {
      at: [clock.now()],
      ids: [req.interactionId],
    });
  }));

Deno.test("gate: the cooldown counts uses per user and command and refuses with the wait", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const first = request(clock, { claim: true, cooldown });
    assert.deepStrictEqual(await admit(kv, first), { kind: "admitted" });
    clock.advance(1_000);
    const second = request(clock, { claim: true, cooldown });
    assert.deepStrictEqual(await admit(kv, second), { kind: "admitted" });
    assert.deepStrictEqual((await kv.get(keys.cooldown(USER, "ethos"))).value, {
      at: [clock.now() - 1_000, clock.now()],
      ids: [first.interactionId, second.interactionId],
    });
    clock.advance(500);
    const third = request(clock, { claim: true, cooldown });
    const before = await stored(kv);
    assert.deepStrictEqual(await admit(kv, third), {
      kind: "refused",
      message: "Slow down: you can use `/ethos` again in 3.5 s.",
    });
    // A refusal writes nothing: no claim for the refused id, no use counted.
    assert.deepStrictEqual(await stored(kv), before);
    // Other commands and other users have their own windows.
    assert.deepStrictEqual(
      await admit(kv, request(clock, { cooldown: { ...cooldown, command: "help" } })),
      { kind: "admitted" },
    );
    assert.deepStrictEqual(
      await admit(
        kv,
        request(clock, {
          userId: "300000000000000002",
          cooldown: { ...cooldown, userId: "300000000000000002" },
        }),
      ),
      { kind: "admitted" },
    );
    // Once the first use leaves the window, the refused interaction may come again.
    clock.advance(3_500);
    assert.deepStrictEqual(await admit(kv, { ...third, now: clock.now() }), { kind: "admitted" });
  }));

Deno.test("gate: the cooldown refusal is in the member's language", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const spec = { uses: 1, perMs: 12_000 };
    const es = (id?: string) =>
      request(clock, {
        language: "es",
        cooldown: { ...cooldown, spec },
        ...(id ? { interactionId: id } : {}),
      });
    assert.deepStrictEqual(await admit(kv, es()), { kind: "admitted" });
    clock.advance(250);
    assert.deepStrictEqual(await admit(kv, es()), {
      kind: "refused",
      message: "Más despacio: podrás usar `/ethos` de nuevo dentro de 11,8 s.",
    });
  }));

Deno.test("gate: a read-only command's duplicate is admitted again but counted once", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const req = request(clock, { cooldown: { ...cooldown, spec: { uses: 1, perMs: 5_000 } } });
    assert.deepStrictEqual(await admit(kv, req), { kind: "admitted" });
    clock.advance(100);
    // The same interaction id again: not refused by its own use, and not claimed anywhere.
    assert.deepStrictEqual(await admit(kv, { ...req, now: clock.now() }), { kind: "admitted" });
    assert.deepStrictEqual(await stored(kv), [
      [keys.cooldown(USER, "ethos"), { at: [clock.now() - 100], ids: [req.interactionId] }],
    ]);
    // A new interaction is refused: the window holds one use.
    assert.deepStrictEqual(
      (await admit(
        kv,
        request(clock, { cooldown: { ...cooldown, spec: { uses: 1, perMs: 5_000 } } }),
      ))
        .kind,
      "refused",
    );
  }));

Deno.test("gate: the role allow-list admits members holding a listed role and refuses the rest", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const allow = (memberRoles: string[]) => ({ guildId: GUILD, command: "backup", memberRoles });
    // No list stored: everyone may.
    assert.deepStrictEqual(await admit(kv, request(clock, { allowList: allow([]) })), {
      kind: "admitted",
    });
    await kv.set(keys.commandRoles(GUILD, "backup"), [ROLE_A, ROLE_B]);
    assert.deepStrictEqual(await admit(kv, request(clock, { allowList: allow([ROLE_B]) })), {
      kind: "admitted",
    });
    const refused = request(clock, {
      claim: true,
      cooldown,
      allowList: allow(["219999999999999999"]),
    });
    const before = await stored(kv);
    assert.deepStrictEqual(await admit(kv, refused), {
      kind: "refused",
      message:
        `In this server \`/backup\` is limited to members with <@&${ROLE_A}> or <@&${ROLE_B}>.`,
    });
    // The refusal claimed nothing and spent no cooldown use.
    assert.deepStrictEqual(await stored(kv), before);
    // The list is per command and per guild.
    assert.deepStrictEqual(
      await admit(kv, request(clock, { allowList: { ...allow([]), command: "audit" } })),
      { kind: "admitted" },
    );
    assert.deepStrictEqual(
      await admit(
        kv,
        request(clock, { allowList: { ...allow([]), guildId: "200000000000000002" } }),
      ),
      { kind: "admitted" },
    );
  }));

Deno.test("gate: allow-list, claim and cooldown together write the claim and the use in one go", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await kv.set(keys.commandRoles(GUILD, "backup"), [ROLE_A]);
    const req = request(clock, {
      claim: true,
      cooldown: { ...cooldown, command: "backup" },
      allowList: { guildId: GUILD, command: "backup", memberRoles: [ROLE_A] },
    });
    assert.deepStrictEqual(await admit(kv, req), { kind: "admitted" });
    assert.deepStrictEqual(await stored(kv), [
      [keys.idempotency(USER, req.interactionId), {
        expiresAt: clock.now() + IDEMPOTENCY_TTL_MS,
        value: { state: "pending" },
      }],
      [keys.cooldown(USER, "backup"), { at: [clock.now()], ids: [req.interactionId] }],
      [keys.commandRoles(GUILD, "backup"), [ROLE_A]],
    ]);
    assert.deepStrictEqual(await admit(kv, req), { kind: "duplicate", response: undefined });
  }));

Deno.test("gate: concurrent uses cannot overrun the cooldown", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const spec = { uses: 2, perMs: 60_000 };
    const reqs = Array.from({ length: 6 }, () =>
      request(clock, { claim: true, cooldown: { ...cooldown, spec } }));
    const results = await Promise.all(reqs.map((r) =>
      admit(kv, r)
    ));
    const admitted = reqs.filter((_, i) => results[i].kind === "admitted").map((r) =>
      r.interactionId
    );
    assert.deepStrictEqual(admitted.length, 2);
    // Only the admitted ones are counted and claimed; the others wrote nothing.
    const uses = (await kv.get<{ ids: string[] }>(keys.cooldown(USER, "ethos"))).value!;
    assert.deepStrictEqual(uses.ids.toSorted(), admitted.toSorted());
    const claims = await listAll(kv, keys.idempotencyOfUser(USER));
    assert.deepStrictEqual(claims.map((e) => e.key[2]).toSorted(), admitted.toSorted());
  }));
