/**
 * The layers of lib/ (../shared/architecture.md), checked from the imports themselves: a module
 * imports only from its own layer or lower ones, and no modules import each other in a circle.
 *
 * `KNOWN_UPWARD` and `KNOWN_CIRCLES` would list an exception, each with its reason; both are empty.
 * The test fails on any upward import or circle not listed, and on a listed one that no longer
 * happens (so the lists only ever shrink).
 */
import assert from "node:assert/strict";

/** Top to bottom. A path matches its longest prefix here. */
const LAYERS: readonly (readonly string[])[] = [
  // The composition: the bot (REST client, metrics, KV wrapper) around the app.
  ["lib/bot.ts"],
  ["lib/status/"],
  // The app: deps, the command registry, signing keys, the verifier.
  ["lib/app.ts"],
  ["lib/commands/"],
  ["lib/cli/"],
  ["lib/sync/", "lib/backup/", "lib/manifest/", "lib/guilds/", "lib/linked_roles/", "lib/privacy/"],
  ["lib/interactions/"],
  // What every handler and service is given: the deps bag, the Ethos clients built from it, and
  // the operations kit (metrics, alerts, feature flags, health).
  ["lib/deps.ts", "lib/ethos/service.ts", "lib/ops/"],
  ["lib/jobs/"],
  ["lib/discord/", "lib/ethos/"],
  ["lib/audit/", "lib/kv/", "lib/signing_keys.ts"],
  [
    "lib/config.ts",
    "lib/canonical.ts",
    "lib/abort.ts",
    "lib/pool.ts",
    "lib/log/",
    "lib/clock.ts",
    "lib/http/",
    "lib/hmac.ts",
    "lib/i18n/",
  ],
];

/** Upward imports allowed for now (importer -> imported), each with why. */
const KNOWN_UPWARD: readonly string[] = [];

/** Import circles allowed for now (their modules, sorted), each with why. */
const KNOWN_CIRCLES: readonly string[] = [];

function layerOf(path: string): number {
  let best = -1;
  let len = -1;
  LAYERS.forEach((layer, i) => {
    for (const prefix of layer) {
      if (path.startsWith(prefix) && prefix.length > len) {
        best = i;
        len = prefix.length;
      }
    }
  });
  if (best < 0) throw new Error(`${path} is in no layer: add it to LAYERS`);
  return best;
}

const SPEC = /(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g;

function resolve(from: string, spec: string): string {
  const out = from.split("/").slice(0, -1);
  for (const part of spec.split("/")) {
    if (part === "..") out.pop();
    else if (part !== ".") out.push(part);
  }
  return out.join("/");
}

async function libGraph(): Promise<Map<string, string[]>> {
  const root = new URL("../", import.meta.url).pathname;
  const graph = new Map<string, string[]>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${root}${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (path.endsWith(".ts")) {
        const src = await Deno.readTextFile(`${root}${path}`);
        graph.set(path, [...src.matchAll(SPEC)].map((m) => resolve(path, m[1])));
      }
    }
  };
  await walk("lib");
  return graph;
}

/** Strongly connected components of two or more modules (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

Deno.test("architecture: no module in lib/ imports from a higher layer (beyond the known list)", async () => {
  const graph = await libGraph();
  const upward: string[] = [];
  for (const [from, tos] of graph) {
    for (const to of tos) if (layerOf(to) < layerOf(from)) upward.push(`${from} -> ${to}`);
  }
  assert.deepStrictEqual([...new Set(upward)].sort(), [...KNOWN_UPWARD].sort());
});

Deno.test("architecture: no import circle in lib/ (beyond the known list)", async () => {
  const found = circles(await libGraph()).map((c) => c.join(" "));
  assert.deepStrictEqual(found.sort(), [...KNOWN_CIRCLES].sort());
});

Deno.test("architecture: the checker finds an upward import and a circle", () => {
  assert.deepStrictEqual(layerOf("lib/status/data.ts") < layerOf("lib/sync/engine.ts"), true);
  const graph = new Map([
    ["lib/kv/a.ts", ["lib/kv/b.ts"]],
    ["lib/kv/b.ts", ["lib/kv/c.ts"]],
    ["lib/kv/c.ts", ["lib/kv/a.ts"]],
    ["lib/kv/d.ts", []],
  ]);
  assert.deepStrictEqual(circles(graph), [["lib/kv/a.ts", "lib/kv/b.ts", "lib/kv/c.ts"]]);
  assert.deepStrictEqual(resolve("lib/sync/engine.ts", "../kv/lease.ts"), "lib/kv/lease.ts");
});
