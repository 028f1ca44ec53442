import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Routes } from "discord-api-types/v10";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

Deno.test("errorRate 1: every REST answer is a 500 or 502 and no write happens", async () => {
  await withEmulator(
    { guilds: [{ members: 5 }], uniformRate: 1000, faults: { errorRate: 1 } },
    async (emu) => {
      const g = emu.state.guild(GUILD);
      const user = g.members.ids().find((id) => !g.members.get(id)!.bot && id !== g.ownerId)!;
      emu.state.setMemberRoles(GUILD, user, []);
      const seen = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const res = await api(
          emu,
          "PUT",
          Routes.guildMemberRole(GUILD, user, g.ethosRoles!.neutral),
        );
        ok(res.status === 500 || res.status === 502, `status ${res.status}`);
        seen.add(res.status);
      }
      deepStrictEqual([...seen].sort(), [500, 502]);
      deepStrictEqual(emu.state.memberRoles(GUILD, user), []);
      strictEqual(emu.stats.writes.length, 0);
      strictEqual(emu.stats.faults, 20);
      // Interaction routes are never faulted.
      const cb = await api(emu, "POST", Routes.interactionCallback("300000000000000001", "t"), {
        auth: false,
        body: { type: 5 },
      });
      strictEqual(cb.status, 204);
      emu.setFaults({ errorRate: 0 });
      strictEqual(
        (await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, g.ethosRoles!.neutral))).status,
        204,
      );
    },
  );
});

Deno.test("a seeded errorRate fails the same requests on every run", async () => {
  const run = async () => {
    const out: number[] = [];
    await withEmulator({
      guilds: [{ members: 1 }],
      uniformRate: 1000,
      faults: { errorRate: 0.3, seed: 42 },
    }, async (emu) => {
      for (let i = 0; i < 40; i++) {
        out.push((await api(emu, "GET", Routes.guildRoles(GUILD))).status);
      }
    });
    return out;
  };
  const a = await run();
  const b = await run();
  deepStrictEqual(a, b);
  const failures = a.filter((s) => s >= 500).length;
  ok(failures > 3 && failures < 25, `failures ${failures}`);
});

Deno.test("latencyMs delays answers", async () => {
  await withEmulator({ guilds: [{ members: 1 }], faults: { latencyMs: 60 } }, async (emu) => {
    const t0 = performance.now();
    strictEqual((await api(emu, "GET", Routes.user("@me"))).status, 200);
    ok(performance.now() - t0 >= 55);
    emu.setFaults({ latencyMs: 0 });
    const t1 = performance.now();
    await api(emu, "GET", Routes.user("@me"));
    ok(performance.now() - t1 < 55);
  });
});
