/**
 * `complete`: follows a role-sync run to its end over the bot's API, starting the next chunk
 * whenever nobody else does (the bot's own auto-continue, a dead chunk's lease), for one guild or
 * for every configured guild side by side. Also how `start` and `complete` start a chunk.
 */
import type { BaseIO } from "./common.ts";
import { isStale, summaryLine } from "../jobs/progress.ts";
import { type Status, type SyncApi, SyncCliError, type Trigger } from "./sync_api.ts";
import { progressLine } from "./sync_format.ts";

/** What following a run writes to and waits with. */
export interface FollowIO extends Pick<BaseIO, "stdout" | "stderr" | "isTTY"> {
  /** Raw text to the terminal, no newline (the progress bar). */
  write(text: string): void;
  sleep(ms: number): Promise<void>;
}

/** The options of a run: which guild, where to start, how big the chunks, how often to look. */
export interface RunOptions {
  guild?: string;
  chunkSize?: number;
  startIndex?: number;
  dryRun: boolean;
  pollMs: number;
}

/** The trigger body of `start` and of a `complete` that does not continue a run. */
export function newRunBody(o: RunOptions): Record<string, unknown> {
  return {
    ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
    // A dry run is always a fresh walk (it never continues a run that writes).
    ...(o.startIndex !== undefined
      ? { startIndex: o.startIndex }
      : o.dryRun
      ? { startIndex: 0 }
      : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
  };
}

/** Triggers a chunk and says so when one started. */
export async function startChunk(
  api: SyncApi,
  body: Record<string, unknown>,
  io: Pick<BaseIO, "stdout">,
  guild?: string,
): Promise<Trigger> {
  const t = await api.trigger(body, guild);
  if (t.kind === "started") io.stdout(`started chunk ${t.chunk} of run ${t.runId}`);
  return t;
}

const UNFINISHED = ["running", "stopping", "waiting", "stopped", "failed"];

/** Follows a run to its end, starting chunks when nobody else does. Returns the exit code. */
export async function complete(o: RunOptions, api: SyncApi, io: FollowIO): Promise<number> {
  const next = (st: Status) => ({
    runId: st.runId,
    chunk: st.chunk + 1,
    ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
  });
  let st = await api.status(o.guild);
  let runId: string | null = null;
  if (UNFINISHED.includes(st.state) && o.startIndex === undefined && !o.dryRun) {
    runId = st.runId;
    if ((st.state === "running" || st.state === "stopping") && !isStale(st)) {
      io.stdout(`following run ${runId} (chunk ${st.chunk} is running)`);
    } else {
      io.stdout(
        `continuing run ${runId} from index ${st.nextIndex}${
          isStale(st) ? " (its chunk died)" : ""
        }`,
      );
      const t = await startChunk(api, next(st), io, o.guild);
      if (t.kind === "conflict") io.stdout("a chunk is already running; following it");
    }
  } else {
    const t = await startChunk(api, newRunBody(o), io, o.guild);
    if (t.kind === "conflict" && t.status?.lease?.live) {
      io.stdout("a chunk is already running; following it");
    } else if (t.kind === "conflict") {
      throw new SyncCliError(`the bot refused: ${t.reason || "conflict"}`);
    }
    runId = (t.kind === "started" ? t.runId : undefined) ?? t.status?.runId ?? null;
  }

  let lastLine = "";
  let lastPrint = 0;
  let waitingSince: { chunk: number; at: number } | null = null;
  for (;;) {
    await io.sleep(o.pollMs);
    st = await api.status(o.guild);
    if (runId && st.runId && st.runId !== runId) {
      io.stdout(`\nrun ${runId} was replaced by run ${st.runId}; following that one`);
      runId = st.runId;
    }
    const line = progressLine(st);
    if (io.isTTY) {
      io.write(`\r\x1b[2K${line}`);
    } else if (line !== lastLine && (Date.now() - lastPrint > 10_000 || st.state !== "running")) {
      io.stdout(line);
      lastPrint = Date.now();
    }
    lastLine = line;
    if (st.state === "completed") {
      if (io.isTTY) io.write("\n");
      io.stdout(`run ${st.runId} completed: ${summaryLine(st)}`);
      return 0;
    }
    if (st.state === "failed") {
      if (io.isTTY) io.write("\n");
      io.stderr(`run ${st.runId} failed: ${st.lastError ?? "unknown error"}`);
      io.stderr("Fix the cause, then run `complete` again to continue from the checkpoint.");
      return 1;
    }
    if (st.state === "stopped") {
      if (io.isTTY) io.write("\n");
      io.stderr(
        `run ${st.runId} was stopped at index ${st.nextIndex}; run \`complete\` again to continue it.`,
      );
      return 1;
    }
    const died = isStale(st);
    if (st.state === "waiting" || died) {
      // With auto-continue the bot chains chunks itself: give it a moment before stepping in.
      const grace = st.autoContinue && !died ? Math.max(10_000, 3 * o.pollMs) : 0;
      if (!waitingSince || waitingSince.chunk !== st.chunk) {
        waitingSince = { chunk: st.chunk, at: Date.now() };
      }
      if (Date.now() - waitingSince.at >= grace) {
        if (io.isTTY) io.write("\n");
        if (died) io.stdout(`chunk ${st.chunk} died (its lease expired); starting the next one`);
        await startChunk(api, next(st), io, o.guild);
        waitingSince = null;
      }
    } else {
      waitingSince = null;
    }
  }
}

/**
 * Every configured guild to the end, side by side, each guild's lines prefixed with its id (the
 * progress of each at most every 10 s, then its summary). Exit 0 only when every guild completed.
 */
export async function completeAll(o: RunOptions, api: SyncApi, io: FollowIO): Promise<number> {
  const guilds = await api.guilds();
  const ready = guilds.filter((g) => g.configured);
  for (const g of guilds.filter((g) => !g.configured)) {
    io.stdout(`[${g.guildId}] not set up yet (run /ethos_setup there); skipped`);
  }
  if (ready.length === 0) {
    io.stderr("no guild is set up: set DISCORD_GUILD_ID and the role ids, or use /ethos_setup");
    return 1;
  }
  io.stdout(`completing ${ready.length} guild${ready.length === 1 ? "" : "s"}`);
  const codes = await Promise.all(ready.map(async (g) => {
    // Plain prefixed lines: bars of several guilds would overwrite each other.
    const prefixed: FollowIO = {
      isTTY: false,
      write: () => {},
      sleep: io.sleep,
      stdout: (line) => io.stdout(`[${g.guildId}] ${line.trimStart()}`),
      stderr: (line) => io.stderr(`[${g.guildId}] ${line.trimStart()}`),
    };
    try {
      return await complete({ ...o, guild: g.guildId }, api, prefixed);
    } catch (error) {
      if (!(error instanceof SyncCliError)) throw error;
      prefixed.stderr(`error: ${error.message}`);
      return 1;
    }
  }));
  const failed = codes.filter((c) => c !== 0).length;
  io.stdout(
    failed ? `${failed} of ${ready.length} guilds did not complete` : "every guild completed",
  );
  return failed ? 1 : 0;
}
