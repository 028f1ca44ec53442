/** Every command the bot has. The manifest Discord receives is derived from this list. */
import type { Command } from "../interactions/define.ts";
import { help } from "./help.ts";
import { config } from "./config.ts";
import { ethosSyncStatus } from "./ethos_sync_status.ts";
import { ethosSync } from "./ethos_sync.ts";
import { ethosSyncStop } from "./ethos_sync_stop.ts";
import { ethosRefresh } from "./ethos_refresh.ts";
import { commandsStatus } from "./commands_status.ts";
import { privacy } from "./privacy.ts";
import { backup } from "./backup/mod.ts";
import { audit } from "./audit.ts";
import { statusLink } from "./status_link.ts";
import { ethos, ethosProfileMenu, ethosx } from "./ethos_profile.ts";
import { ethosSetup } from "./ethos_setup.ts";

export const commands: Command[] = [
  ethos,
  ethosx,
  ethosProfileMenu,
  help,
  config,
  ethosSetup,
  ethosSyncStatus,
  ethosSync,
  ethosSyncStop,
  ethosRefresh,
  commandsStatus,
  privacy,
  backup,
  audit,
  statusLink,
];
