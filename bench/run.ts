/** Runs every benchmark in bench/ in turn (each also runs alone with `deno run -A bench/X.ts`). */
const benches: [string, string[]][] = [
  ["interactions_bench.ts", []],
  ["rest_bench.ts", []],
  ["manifest_bench.ts", []],
  ["sync_bench.ts", []],
  // Tight write buckets (5 per 1 s) with the bot's event loop stalling now and then: no 429.
  ["sync_bench.ts", ["--case=t:400:1", "--case=t:400:1", "--case=t:400:1", "--stall-ms=400"]],
  // 4 s chunks, each on a new isolate, limits learned from Discord's headers: writes = needed.
  ["sync_bench.ts", [
    "--case=a:1500:1",
    "--chunk-ms=4000",
    "--isolate-per-chunk",
    "--learn-limits",
  ]],
  // 10 guilds at once, each guild's chunks in its own process, one global limit shared through KV:
  // Discord-like buckets (the guilds' buckets bind), then all limits 50/s (the global one binds).
  ["sync_bench.ts", ["--case=gb:5000:5", "--case=ga:5000:1", "--guilds=10"]],
  // 500 Ethos score changes over 10 minutes, 3 guilds of 20,000: lag to the right roles.
  ["freshness_bench.ts", []],
  // 100,000 linked users, 30% of scores change: metadata pushes vs the role sync's writes.
  ["linked_roles_bench.ts", []],
  ["backup_bench.ts", []],
  // SHA-256 and HMAC on @noble/hashes against the removed hand-written code (bench/baseline/).
  ["hashing_bench.ts", []],
  ["fuzz.ts", []],
];
const only = Deno.args[0];
let failed = false;
for (const [file, args] of benches) {
  if (only && !file.startsWith(only)) continue;
  const path = new URL(`./${file}`, import.meta.url).pathname;
  try {
    await Deno.stat(path);
  } catch {
    continue;
  }
  console.log(`\n=== ${[file, ...args].join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) failed = true;
}
if (failed) Deno.exit(1);
