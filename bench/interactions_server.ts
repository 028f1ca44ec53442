/**
 * A server for bench/interactions_bench.ts, in its own process so the load generator does not
 * share its thread. `--mode=bot` serves the real bot (in-memory KV); `--mode=baseline` is a bare
 * Deno.serve that verifies the signature with WebCrypto and answers PONG.
 * Prints `{"port": n}` once listening.
 */
import { testConfig } from "../lib/config.ts";
import { systemClock } from "../lib/clock.ts";
import { createLogger } from "../lib/ops/log.ts";
import { RestClient } from "../lib/discord/rest.ts";
import { createApp } from "../lib/app.ts";
import { createVerifier } from "../lib/discord/verify.ts";
import { createHandler } from "../routes/mod.ts";

const mode = Deno.args.find((a) => a.startsWith("--mode="))?.slice(7) ?? "bot";
const publicKey = Deno.args.find((a) => a.startsWith("--key="))?.slice(6)!;
const onListen = ({ port }: { port: number }) => console.log(JSON.stringify({ port }));

if (mode === "baseline") {
  const verifier = await createVerifier(publicKey);
  Deno.serve({ port: 0, hostname: "127.0.0.1", onListen }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const ok = await verifier.verify(
      req.headers.get("x-signature-ed25519"),
      req.headers.get("x-signature-timestamp"),
      body,
      Date.now(),
    );
    if (!ok.ok) return new Response("bad signature", { status: 401 });
    return Response.json({ type: 1 });
  });
} else {
  const config = testConfig({ DISCORD_PUBLIC_KEY: publicKey, LOG_LEVEL: "error" });
  const kv = await Deno.openKv(":memory:");
  const log = createLogger({ level: "error" });
  const deps = {
    config,
    kv,
    rest: new RestClient({ token: config.discord.token, apiBase: config.discord.apiBase, log }),
    clock: systemClock,
    log,
    fetch,
    waitUntil: (p: Promise<unknown>) => void p.catch(() => {}),
    startedAt: Date.now(),
  };
  const app = await createApp(deps);
  Deno.serve({ port: 0, hostname: "127.0.0.1", onListen }, createHandler(app));
}
