/**
 * sync-helper.ts: the operator command line, over the bot's authenticated HTTP API (it never runs
 * the engine). A thin entry: the first argument picks the CLI in lib/cli/ that runs.
 *
 *   deno run --allow-net --allow-env sync-helper.ts <command> [options]
 *
 * Commands:
 *   start, complete, status, stop, status-link   the role sync (lib/cli/sync.ts; no command: help)
 *   commands      diff|sync|log of the slash-command manifest (lib/cli/commands.ts)
 *   backup        create|list|view|verify|diff|restore|export (lib/cli/backup.ts)
 *   linked-roles  register|status of Ethos linked roles (lib/cli/linked_roles.ts)
 *
 * Every command takes --url (else $SYNC_URL, else http://localhost:8000) and --token (else
 * $SYNC_AUTH_TOKEN); `sync-helper.ts --help` and `<command> --help` list the rest. Exit codes are
 * each CLI's own (see their modules): 2 is always a usage error.
 */
import { type BackupCliIO, runBackupCli } from "./lib/cli/backup.ts";
import { runCommandsCli } from "./lib/cli/commands.ts";
import { runLinkedRolesCli } from "./lib/cli/linked_roles.ts";
import { runSyncCli, type SyncCliIO } from "./lib/cli/sync.ts";

/** Runs the CLI the first argument names (the sync CLI for any other); resolves to the exit code. */
export function main(
  args: string[],
  io: Partial<SyncCliIO & BackupCliIO> = {},
): Promise<number> {
  const [command, ...rest] = args;
  if (command === "commands") return runCommandsCli(rest, io);
  if (command === "backup") return runBackupCli(rest, io);
  if (command === "linked-roles") return runLinkedRolesCli(rest, io);
  return runSyncCli(args, io);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
