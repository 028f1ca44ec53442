/**
 * Discord does not promise single delivery. The first delivery of an interaction id claims it in
 * KV (in the gate's one atomic write); a duplicate gets the first one's response replayed, or a
 * notice while it still runs, and causes no side effects. Records expire with the interaction
 * token, after 15 minutes.
 */
import { z } from "zod";
import type { APIInteractionResponse } from "discord-api-types/v10";
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";
import { liveValue, recordEntry } from "../kv/record.ts";

export const IDEMPOTENCY_TTL_MS = 15 * 60_000;

const recordSchema = z.object({
  state: z.enum(["pending", "done"]),
  response: z.unknown().optional(),
});

export type Prior = { seen: false } | { seen: true; response?: APIInteractionResponse };

/** What an earlier delivery left, from the raw KV value. */
export function priorDelivery(raw: unknown, now: number): Prior {
  const record = liveValue(raw, recordSchema, now);
  if (!record) return { seen: false };
  return {
    seen: true,
    response: record.state === "done" ? record.response as APIInteractionResponse : undefined,
  };
}

export const PENDING = { state: "pending" } as const;

/** The record to keep and its approximate size (serialised once). */
function doneRecord(response: APIInteractionResponse): { value: unknown; size: number } {
  const value = { state: "done", response };
  const size = JSON.stringify(value).length;
  // A response too large to keep is not replayed; the duplicate still gets no side effects.
  return size < 60_000 ? { value, size } : { value: { state: "done" }, size: 20 };
}

const BATCH_SETS = 200;
const BATCH_BYTES = 600_000;

/**
 * Buffers the "done" records written after responses are sent and writes them in one commit
 * every `delayMs`: under load many interactions share a KV round trip. A duplicate delivery in
 * the meantime sees the record as pending ("already being handled"), never a second run.
 */
export class ResponseRecorder {
  #pending: { key: Deno.KvKey; value: unknown; size: number }[] = [];
  #scheduled: Promise<void> | null = null;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly clock: Clock,
    private readonly delayMs = 20,
  ) {}

  /** Resolves once the record is written (or its batch failed: then it rejects). */
  record(userId: string, id: string, response: APIInteractionResponse): Promise<void> {
    const { value, size } = doneRecord(response);
    // 200 bytes of slack for the key and the record's envelope.
    this.#pending.push({ key: keys.idempotency(userId, id), value, size: size + 200 });
    this.#scheduled ??= new Promise<void>((resolve) => setTimeout(resolve, this.delayMs)).then(
      () => {
        this.#scheduled = null;
        return this.flush();
      },
    );
    return this.#scheduled;
  }

  async flush(): Promise<void> {
    const batch = this.#pending.splice(0);
    const now = this.clock.now();
    let op = this.kv.atomic();
    let sets = 0;
    let bytes = 0;
    for (const item of batch) {
      if (sets === BATCH_SETS || bytes + item.size > BATCH_BYTES) {
        await op.commit();
        op = this.kv.atomic();
        sets = 0;
        bytes = 0;
      }
      op.set(item.key, ...recordEntry(item.value, IDEMPOTENCY_TTL_MS, now));
      sets++;
      bytes += item.size;
    }
    if (sets) await op.commit();
  }
}
