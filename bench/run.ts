/** Runs every benchmark in bench/ in turn (each also runs alone with `deno run -A bench/X.ts`). */
const benches = [
  "interactions_bench.ts",
  "rest_bench.ts",
  "manifest_bench.ts",
  "sync_bench.ts",
  "backup_bench.ts",
  "fuzz.ts",
];
const only = Deno.args[0];
let failed = false;
for (const file of benches) {
  if (only && !file.startsWith(only)) continue;
  const path = new URL(`./${file}`, import.meta.url).pathname;
  try {
    await Deno.stat(path);
  } catch {
    continue;
  }
  console.log(`\n=== ${file}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) failed = true;
}
if (failed) Deno.exit(1);
