/**
 * Typed option builders. Each builder yields both the option's Discord JSON and a zod schema for
 * the value Discord sends, so a command's option is written once and validated on every call.
 */
import { z } from "zod";
import {
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandOptionChoice,
  ApplicationCommandOptionType,
  type ChannelType,
} from "discord-api-types/v10";
import type { AutocompleteHandler, OptionSpec } from "./context.ts";
import { SNOWFLAKE } from "../discord/snowflake.ts";

interface Base<R extends boolean> {
  description: string;
  /** Manifest translations of the description (lib/i18n). */
  descriptionLocalizations?: Record<string, string>;
  required?: R;
}

const snowflake = z.string().regex(SNOWFLAKE);

function spec<V, R extends boolean>(
  base: Base<R>,
  type: ApplicationCommandOptionType,
  schema: z.ZodType<V>,
  extra: Record<string, unknown> = {},
  autocomplete?: AutocompleteHandler,
): OptionSpec<V, R> {
  const json = {
    type,
    description: base.description,
    ...(base.descriptionLocalizations
      ? { description_localizations: base.descriptionLocalizations }
      : {}),
    required: base.required ?? false,
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    ...(autocomplete ? { autocomplete: true } : {}),
  } as unknown as Omit<APIApplicationCommandBasicOption, "name">;
  return { required: (base.required ?? false) as R, json, schema, autocomplete };
}

function choiceSchema<T extends string | number>(
  base: z.ZodType<T>,
  choices?: APIApplicationCommandOptionChoice<T>[],
): z.ZodType<T> {
  if (!choices?.length) return base;
  const allowed = new Set<T>(choices.map((c) => c.value));
  return base.refine((v) => allowed.has(v), { message: "is not one of the choices" });
}

export const opt = {
  string<const R extends boolean = false>(
    o: Base<R> & {
      minLength?: number;
      maxLength?: number;
      choices?: APIApplicationCommandOptionChoice<string>[];
      autocomplete?: AutocompleteHandler;
    },
  ): OptionSpec<string, R> {
    let s = z.string();
    if (o.minLength !== undefined) s = s.min(o.minLength);
    if (o.maxLength !== undefined) s = s.max(o.maxLength);
    return spec(o, ApplicationCommandOptionType.String, choiceSchema(s, o.choices), {
      min_length: o.minLength,
      max_length: o.maxLength,
      choices: o.choices,
    }, o.autocomplete);
  },
  integer<const R extends boolean = false>(
    o: Base<R> & {
      minValue?: number;
      maxValue?: number;
      choices?: APIApplicationCommandOptionChoice<number>[];
      autocomplete?: AutocompleteHandler;
    },
  ): OptionSpec<number, R> {
    let s = z.number().int();
    if (o.minValue !== undefined) s = s.min(o.minValue);
    if (o.maxValue !== undefined) s = s.max(o.maxValue);
    return spec(o, ApplicationCommandOptionType.Integer, choiceSchema(s, o.choices), {
      min_value: o.minValue,
      max_value: o.maxValue,
      choices: o.choices,
    }, o.autocomplete);
  },
  number<const R extends boolean = false>(o: Base<R> & { minValue?: number; maxValue?: number }) {
    let s = z.number();
    if (o.minValue !== undefined) s = s.min(o.minValue);
    if (o.maxValue !== undefined) s = s.max(o.maxValue);
    return spec<number, R>(o, ApplicationCommandOptionType.Number, s, {
      min_value: o.minValue,
      max_value: o.maxValue,
    });
  },
  boolean<const R extends boolean = false>(o: Base<R>): OptionSpec<boolean, R> {
    return spec(o, ApplicationCommandOptionType.Boolean, z.boolean());
  },
  /** The user's id; details are in the interaction's resolved data. */
  user<const R extends boolean = false>(o: Base<R>): OptionSpec<string, R> {
    return spec(o, ApplicationCommandOptionType.User, snowflake);
  },
  role<const R extends boolean = false>(o: Base<R>): OptionSpec<string, R> {
    return spec(o, ApplicationCommandOptionType.Role, snowflake);
  },
  channel<const R extends boolean = false>(
    o: Base<R> & { channelTypes?: ChannelType[] },
  ): OptionSpec<string, R> {
    return spec(o, ApplicationCommandOptionType.Channel, snowflake, {
      channel_types: o.channelTypes,
    });
  },
  mentionable<const R extends boolean = false>(o: Base<R>): OptionSpec<string, R> {
    return spec(o, ApplicationCommandOptionType.Mentionable, snowflake);
  },
  attachment<const R extends boolean = false>(o: Base<R>): OptionSpec<string, R> {
    return spec(o, ApplicationCommandOptionType.Attachment, snowflake);
  },
};
