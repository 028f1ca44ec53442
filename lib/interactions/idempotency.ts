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
import { liveValue, setRecord } from "../kv/record.ts";

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

export async function recordResponse(
  kv: Deno.Kv,
  id: string,
  response: APIInteractionResponse,
  clock: Clock,
): Promise<void> {
  const value = { state: "done", response };
  // A response too large to keep is not replayed; the duplicate still gets no side effects.
  const fits = JSON.stringify(value).length < 60_000;
  await setRecord(
    kv,
    keys.idempotency(id),
    fits ? value : { state: "done" },
    IDEMPOTENCY_TTL_MS,
    clock,
  );
}
