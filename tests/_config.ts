/** A complete, valid config for tests and benches, so each states only what it is about. */
import { type Config, parseConfig } from "../lib/config.ts";

/** The three required variables filled in, then `overrides`; throws ConfigError as parsing does. */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return parseConfig({
    DISCORD_PUBLIC_KEY: "0".repeat(64),
    DISCORD_APPLICATION_ID: "100000000000000001",
    DISCORD_TOKEN: "test-bot-token-0123456789abcdef",
    ...overrides,
  });
}
