import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { discordUserkey, ethosLevel } from "./ethos.ts";
import { ethos, withEmulator } from "./test_helpers.ts";

type Scores = Record<string, { score: number; level: string }>;

Deno.test("levels follow Ethos's bands", () => {
  const cases: [number, string][] = [
    [0, "untrusted"],
    [799, "untrusted"],
    [800, "questionable"],
    [1199, "questionable"],
    [1200, "neutral"],
    [1400, "known"],
    [1600, "established"],
    [1800, "reputable"],
    [2000, "exemplary"],
    [2200, "distinguished"],
    [2400, "revered"],
    [2600, "renowned"],
    [2800, "renowned"],
  ];
  for (const [score, level] of cases) strictEqual(ethosLevel(score), level, String(score));
});

Deno.test("bulk lookup answers scored users only, records the client header", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.setScore("111111111111111111", 2100);
    emu.state.setScore("222222222222222222", 900);
    const keys = ["111111111111111111", "222222222222222222", "333333333333333333"].map(
      discordUserkey,
    );
    const res = await ethos<Scores>(emu, "POST", "/score/userkeys", {
      userkeys: [...keys, "address:0xabc"],
    }, "ethos-bot@1");
    strictEqual(res.status, 200);
    deepStrictEqual(res.body, {
      [keys[0]]: { score: 2100, level: "exemplary" },
      [keys[1]]: { score: 900, level: "questionable" },
    });
    strictEqual(emu.stats.ethosCalls["POST /score/userkeys"], 1);
    strictEqual(emu.stats.ethosClients["ethos-bot@1"], 1);
    strictEqual(emu.stats.ethosUserkeysRequested, 4);

    emu.state.ethos.omitFromBulk.add(keys[0]);
    const partial = await ethos<Scores>(emu, "POST", "/score/userkeys", { userkeys: keys });
    deepStrictEqual(Object.keys(partial.body), [keys[1]]);
  });
});

Deno.test("bulk lookup caps at 500 userkeys and validates its body", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    const keys = (n: number) =>
      Array.from({ length: n }, (_, i) => discordUserkey(String(100000000000000000n + BigInt(i))));
    strictEqual((await ethos(emu, "POST", "/score/userkeys", { userkeys: keys(500) })).status, 200);
    strictEqual((await ethos(emu, "POST", "/score/userkeys", { userkeys: keys(501) })).status, 400);
    strictEqual((await ethos(emu, "POST", "/score/userkeys", { nope: [] })).status, 400);
  });
});

Deno.test("single lookup answers the score or 404", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.setScore("111111111111111111", 1450);
    const found = await ethos(
      emu,
      "GET",
      `/score/userkey?userkey=${encodeURIComponent(discordUserkey("111111111111111111"))}`,
    );
    deepStrictEqual(found.body, { score: 1450, level: "known" });
    const missing = await ethos(emu, "GET", `/score/userkey?userkey=${discordUserkey("999")}`);
    strictEqual(missing.status, 404);
  });
});

Deno.test("updates feed lists userkeys changed after a time, paged", async () => {
  await withEmulator({ guilds: [{ members: 50 }] }, async (emu) => {
    const since = new Date(Date.now() - 1000).toISOString();
    const empty = await ethos<{ values: unknown[]; total: number }>(
      emu,
      "GET",
      `/score/updates?after=${since}`,
    );
    strictEqual(empty.body.total, 0);
    const seeded = await ethos<{ total: number }>(
      emu,
      "GET",
      `/score/updates?after=2000-01-01T00:00:00Z&limit=1`,
    );
    strictEqual(seeded.body.total, emu.state.scores.size);
    const t = Date.now();
    emu.state.setScore("111111111111111111", 1000, t);
    emu.state.setScore("222222222222222222", 2000, t + 1);
    emu.state.setScore("333333333333333333", 2500, t + 2);
    emu.state.setScore("111111111111111111", null, t + 3);
    type Feed = {
      values: { userkey: string; lastUpdatedAt: string }[];
      total: number;
      limit: number;
      offset: number;
    };
    const page1 = await ethos<Feed>(emu, "GET", `/score/updates?after=${since}&limit=2`);
    strictEqual(page1.body.total, 3);
    strictEqual(page1.body.limit, 2);
    deepStrictEqual(page1.body.values.map((v) => v.userkey), [
      discordUserkey("222222222222222222"),
      discordUserkey("333333333333333333"),
    ]);
    strictEqual(page1.body.values[0].lastUpdatedAt, new Date(t + 1).toISOString());
    const page2 = await ethos<Feed>(emu, "GET", `/score/updates?after=${since}&limit=2&offset=2`);
    deepStrictEqual(page2.body.values.map((v) => v.userkey), [
      discordUserkey("111111111111111111"),
    ]);
    strictEqual((await ethos(emu, "GET", `/score/updates?limit=1001`)).status, 400);
    strictEqual((await ethos(emu, "GET", `/score/updates?after=yesterday`)).status, 400);
  });
});

Deno.test("failing and latency switches", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.ethos.failing = true;
    strictEqual((await ethos(emu, "POST", "/score/userkeys", { userkeys: [] })).status, 503);
    emu.state.ethos.failStatus = 500;
    strictEqual((await ethos(emu, "GET", "/score/userkey?userkey=x")).status, 500);
    emu.state.ethos.failing = false;
    emu.state.ethos.latencyMs = 50;
    const t0 = performance.now();
    strictEqual((await ethos(emu, "POST", "/score/userkeys", { userkeys: [] })).status, 200);
    ok(performance.now() - t0 >= 45);
  });
});
