/**
 * Ethos's ten levels as the bot shows them: the API's level string, where it starts, and the
 * colour of its cards and roles. The colours are this bot's palette (Ethos publishes none in its
 * API), from red at untrusted through grey at neutral to gold at renowned.
 */
import { type Level, LEVELS } from "../config.ts";

export { LEVELS };
export type { Level };

export const LEVEL_COLORS: Readonly<Record<Level, number>> = {
  untrusted: 0xc0392b,
  questionable: 0xd68910,
  neutral: 0x95a5a6,
  known: 0x5dade2,
  established: 0x2e86c1,
  reputable: 0x1f618d,
  exemplary: 0x27ae60,
  distinguished: 0x8e44ad,
  revered: 0xc71585,
  renowned: 0xd4ac0d,
};

const NAMES = new Set<string>(LEVELS.map(([name]) => name));

export function isLevel(value: unknown): value is Level {
  return typeof value === "string" && NAMES.has(value);
}

/** The level a score falls in by Ethos's table. */
export function levelOfScore(score: number): Level {
  let level: Level = "untrusted";
  for (const [name, min] of LEVELS) if (score >= min) level = name;
  return level;
}

/** The level's index, 0 for untrusted up to 9 for renowned. */
export function levelIndex(level: Level): number {
  return LEVELS.findIndex(([name]) => name === level);
}
