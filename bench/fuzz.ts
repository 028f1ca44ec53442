/**
 * The property tests of tests/e2e/properties_test.ts run for longer: signed arbitrary JSON, signed
 * mutations of valid interactions, and operator routes with arbitrary bodies and query strings,
 * against the bot in-process on the Discord emulator. Unlike the suite it does not stop at the
 * first problem: it prints each distinct finding with one example, then one JSON line.
 *
 *   deno run -A bench/fuzz.ts [--runs=100000] [--seed=N]
 */
import fc from "fast-check";
import {
  arbitraryInteraction,
  checkInteraction,
  checkOperator,
  type Finding,
  mutatedInteraction,
  operatorRequest,
  type PropertyBot,
  propertyBot,
} from "../tests/_properties.ts";

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const RUNS = arg("runs", 100_000);
const SEED = arg("seed", Date.now() % 2 ** 31);
const BATCH = 500;

interface Property<T> {
  name: string;
  share: number;
  arbitrary: (bot: PropertyBot) => fc.Arbitrary<T>;
  check: (bot: PropertyBot, value: T) => Promise<Finding>;
}

const properties = [
  {
    name: "arbitrary JSON",
    share: 0.2,
    arbitrary: () => arbitraryInteraction,
    check: checkInteraction,
  },
  {
    name: "mutated interactions",
    share: 0.5,
    arbitrary: mutatedInteraction,
    check: checkInteraction,
  },
  { name: "operator routes", share: 0.3, arbitrary: () => operatorRequest, check: checkOperator },
] as Property<unknown>[];

console.log(`fuzz: ${RUNS} cases, seed ${SEED}`);
const summary: Record<string, { cases: number; findings: number; distinct: number; ms: number }> =
  {};
let total = 0;
for (const [i, p] of properties.entries()) {
  const runs = Math.round(RUNS * p.share);
  const found = new Map<string, { count: number; example: unknown }>();
  const t0 = performance.now();
  // A fresh bot per batch keeps KV and logs small over a long run.
  for (let done = 0; done < runs; done += BATCH) {
    const bot = await propertyBot();
    try {
      const values = fc.sample(p.arbitrary(bot), {
        seed: SEED + i * 1_000_003 + done,
        numRuns: Math.min(BATCH, runs - done),
      });
      for (const value of values) {
        const finding = await p.check(bot, value).catch((e) => `check threw: ${e}`);
        if (!finding) continue;
        // Findings of one kind differ in ids and times: group by their first words.
        const kind = finding.replace(/\d{6,}|"time":"[^"]+"/g, "#").slice(0, 160);
        const seen = found.get(kind);
        if (seen) seen.count++;
        else found.set(kind, { count: 1, example: value });
      }
    } finally {
      await bot.close();
    }
  }
  const ms = performance.now() - t0;
  const findings = [...found.values()].reduce((n, f) => n + f.count, 0);
  total += findings;
  summary[p.name] = { cases: runs, findings, distinct: found.size, ms: Math.round(ms) };
  console.log(
    `${p.name}: ${runs} cases in ${
      (ms / 1000).toFixed(1)
    } s, ${findings} findings (${found.size} distinct)`,
  );
  for (const [kind, f] of found) {
    console.log(`  ${f.count}x ${kind}\n    example: ${JSON.stringify(f.example).slice(0, 600)}`);
  }
}
console.log(total === 0 ? "no findings (target: none)" : `${total} findings (target: none)`);
console.log(JSON.stringify({ bench: "fuzz", seed: SEED, runs: RUNS, summary, findings: total }));
if (total) Deno.exit(1);
