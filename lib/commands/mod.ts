/** Every command the bot has. The manifest Discord receives is derived from this list. */
import type { Command } from "./define.ts";
import { help } from "./help.ts";
import { config } from "./config.ts";
import { ethosSyncStatus } from "./ethos_sync_status.ts";

export const commands: Command[] = [help, config, ethosSyncStatus];
