import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { parseArgs, toOptions } from "./main.ts";

Deno.test("CLI flags map to emulator options", () => {
  const cli = parseArgs([
    "--port",
    "9999",
    "--members=100000",
    "--seed",
    "7",
    "--fault-rate",
    "0.1",
    "--latency-ms",
    "5",
  ]);
  strictEqual(cli.port, 9999);
  strictEqual(cli.members, 100000);
  strictEqual(cli.discordLike, false);
  const opts = toOptions(cli);
  strictEqual(opts.uniformRate, 1000);
  deepStrictEqual(opts.guilds, [{ id: "200000000000000001", members: 100000 }]);
  deepStrictEqual(opts.faults, { errorRate: 0.1, latencyMs: 5, seed: 7 });
  const like = toOptions(parseArgs(["--discord-like", "--guild", "42"]));
  strictEqual(like.uniformRate, undefined);
  strictEqual(like.guilds![0].id, "42");
  throws(() => parseArgs(["--bogus"]));
  throws(() => parseArgs(["--members"]));
});
