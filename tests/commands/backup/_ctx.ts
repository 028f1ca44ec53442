/**
 * What the unit tests of /backup's parts share: a handler context made by hand over given deps,
 * whose custom IDs read `route|state` and whose replies hand back what they were given, so a test
 * reads a message as the part built it, without signing or dispatch.
 */
import type { APIInteractionResponse } from "discord-api-types/v10";
import type { AppDeps } from "../../../lib/deps.ts";
import type { ComponentContext } from "../../../lib/interactions/context.ts";
import type { Language } from "../../../lib/i18n/mod.ts";
import type { MessageData } from "../../../lib/interactions/reply.ts";

export const GUILD = "200000000000000001";
export const USER = { id: "300000000000000001", username: "tester" };

/** A reply as the hand-made context returns it: its kind and the message given. */
export interface Answer {
  kind: "reply" | "ephemeral" | "update";
  data: MessageData;
}

export function handCtx(
  deps: AppDeps,
  o: { language?: Language; state?: string; guildId?: string | null } = {},
): ComponentContext {
  const answer = (kind: Answer["kind"]) => (data: unknown) =>
    ({ kind, data }) as unknown as APIInteractionResponse;
  return {
    deps,
    guildId: o.guildId === null ? undefined : o.guildId ?? GUILD,
    user: { ...USER, discriminator: "0", global_name: null, avatar: null },
    language: o.language ?? "en",
    state: o.state ?? "",
    values: [],
    customId: (route: string, state?: string) => Promise.resolve(`${route}|${state ?? ""}`),
    reply: answer("reply"),
    ephemeral: answer("ephemeral"),
    update: answer("update"),
  } as unknown as ComponentContext;
}

/** What a hand-made context's reply carried. */
export const answered = (r: unknown): Answer => r as Answer;

/** The buttons of a message, row after row. */
export function buttonsOf(m: MessageData) {
  const rows = (m as { components?: { components: Record<string, unknown>[] }[] }).components ?? [];
  return rows.flatMap((r) => r.components) as {
    custom_id?: string;
    label?: string;
    style?: number;
    disabled?: boolean;
  }[];
}
