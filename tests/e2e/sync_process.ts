/**
 * The bot as a real subprocess (mod.ts) against the emulator, on a KV file the test can open
 * too: for the tests that kill it mid-chunk or send it Deploy's eviction signal.
 */
import type { Emulator } from "../emulator/server.ts";
import { botEnvFor } from "../emulator/bot_env.ts";
import { signingKeys } from "../_harness.ts";
import { GUILD, TOKEN } from "./sync_helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface BotProcess {
  url: string;
  child: Deno.ChildProcess;
  output(): string;
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  waitHealthy(): Promise<void>;
  /** Sends a signal and waits for the exit; returns the ms it took. */
  kill(signal: Deno.Signal): Promise<number>;
}

export async function spawnBot(
  emu: Emulator,
  kvPath: string,
  env: Record<string, string> = {},
): Promise<BotProcess> {
  const keys = await signingKeys();
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "mod.ts"],
    cwd: ROOT,
    env: botEnvFor(emu, keys.publicKeyHex, GUILD, {
      PORT: String(port),
      KV_PATH: kvPath,
      SYNC_AUTH_TOKEN: TOKEN,
      SELF_URL: url,
      DISABLE_DAILY_SYNC: "true",
      LOG_LEVEL: "warn",
      SYNC_PATCH_LIMIT: `${emu.limits.memberPatch.limit}/${emu.limits.memberPatch.windowMs}ms`,
      SYNC_ROLE_LIMIT: `${emu.limits.memberRole.limit}/${emu.limits.memberRole.windowMs}ms`,
      DISCORD_GLOBAL_RATE_LIMIT: String(emu.limits.global),
      ...env,
    }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const bot: BotProcess = {
    url,
    child,
    output: () => text,
    async call(method, path, body) {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    async waitHealthy() {
      for (let i = 0; i < 400; i++) {
        try {
          const res = await fetch(`${url}/health`);
          await res.body?.cancel();
          if (res.ok) return;
        } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`bot did not start:\n${text}`);
    },
    async kill(signal) {
      const t0 = Date.now();
      try {
        child.kill(signal);
      } catch { /* gone */ }
      await child.status;
      await drained;
      return Date.now() - t0;
    },
  };
  return bot;
}
