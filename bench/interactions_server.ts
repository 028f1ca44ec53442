/**
 * A server for bench/interactions_bench.ts, in its own process so the load generator does not
 * share its thread.
 *
 * `--mode=bot` serves the production composition: `composeBot` (lib/bot.ts, what mod.ts runs:
 * metrics, the counting KV, the REST client with its hooks) behind routes/mod.ts's
 * `createHandler`, at the default log level. Its KV is a SQLite file in a fresh temporary
 * directory (removed on exit), as `deno task start` with KV_PATH uses: `:memory:` would skip the
 * file's writes and flatter the commands that touch KV. Crons are not registered (they run on
 * minute boundaries, not per request, and would land at random in measured phases).
 *
 * `--mode=baseline` is what any webhook needs at least: a bare Deno.serve that checks the
 * timestamp, verifies the Ed25519 signature with WebCrypto and answers PONG, written here on
 * purpose rather than with lib/discord/verify.ts, so that changing the bot cannot move it.
 *
 * Side channel (stdin/stdout lines, never an HTTP route): prints `{"port": n}` once listening;
 * each `cpu` line on stdin is answered with `{"cpu": {"user": µs, "system": µs}}`, this process's
 * CPU time so far (all threads), once the bot's background work has settled; `exit` (or the end
 * of stdin) stops the server. Other stdout lines (the bot's logs) are to be passed through.
 */
import process from "node:process";
import { testConfig } from "../tests/_config.ts";
import { type Bot, composeBot } from "../lib/bot.ts";
import { createHandler } from "../routes/mod.ts";

const mode = Deno.args.find((a) => a.startsWith("--mode="))?.slice(7) ?? "bot";
const publicKey = Deno.args.find((a) => a.startsWith("--key="))?.slice(6)!;
const onListen = ({ port }: { port: number }) => console.log(JSON.stringify({ port }));

let server: Deno.HttpServer;
let bot: Bot | undefined;
let cleanup = async () => {};

if (mode === "baseline") {
  const raw = new Uint8Array(32);
  for (let i = 0; i < 32; i++) raw[i] = parseInt(publicKey.slice(2 * i, 2 * i + 2), 16);
  const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  const encoder = new TextEncoder();
  server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const sigHex = req.headers.get("x-signature-ed25519") ?? "";
    const timestamp = req.headers.get("x-signature-timestamp") ?? "";
    if (sigHex.length !== 128 || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
      return new Response("bad signature", { status: 401 });
    }
    const sig = new Uint8Array(64);
    for (let i = 0; i < 64; i++) sig[i] = parseInt(sigHex.slice(2 * i, 2 * i + 2), 16);
    const ts = encoder.encode(timestamp);
    const message = new Uint8Array(ts.length + body.length);
    message.set(ts);
    message.set(body, ts.length);
    if (!(await crypto.subtle.verify("Ed25519", key, sig, message))) {
      return new Response("bad signature", { status: 401 });
    }
    return Response.json({ type: 1 });
  });
} else {
  const dir = await Deno.makeTempDir({ prefix: "interactions-bench-" });
  const config = testConfig({
    DISCORD_PUBLIC_KEY: publicKey,
    KV_PATH: `${dir}/kv.sqlite`,
    // As production is told to set it (without it the keys come from a secret kept in KV).
    SIGNING_SECRET: "bench-signing-secret-0123456789abcdef",
  });
  const kv = await Deno.openKv(config.kvPath);
  bot = await composeBot({ config, kv });
  server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen }, createHandler(bot.app));
  const composed = bot;
  cleanup = async () => {
    await composed.drain("bench over", 2_000);
    kv.close();
    await Deno.remove(dir, { recursive: true });
  };
}

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buffered = "";
read: for await (const chunk of lines) {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (line === "exit") break read;
    if (line === "cpu") {
      // Deferred work (recorded responses, metrics) belongs to the phase that caused it.
      for (let i = 0; i < 100 && bot?.pending.size; i++) await Promise.allSettled([...bot.pending]);
      console.log(JSON.stringify({ cpu: process.cpuUsage() }));
    }
  }
}
await server.shutdown();
await cleanup();
Deno.exit(0);
