/**
 * The diff between the code's manifest and what Discord has registered in one scope, on canonical
 * forms (so server-side fields and defaults Discord fills in never show as changes). Pure.
 */
import {
  type CanonicalCommand,
  canonicalManifest,
  type CanonicalOptions,
  commandKey,
  type Json,
  stableStringify,
} from "./canonical.ts";
import type { CommandChange, CommandRef, DiffSummary, FieldChange, ManifestDiff } from "./types.ts";

const ref = (c: CanonicalCommand): CommandRef => ({
  name: c.name as string,
  type: c.type as number,
});

const same = (a: unknown, b: unknown) => stableStringify(a) === stableStringify(b);

const optionName = (o: Json) =>
  o && typeof o === "object" && !Array.isArray(o) ? String(o.name) : "?";

/** Field-level differences between two canonical objects (commands or options). */
export function fieldChanges(
  code: Record<string, Json>,
  discord: Record<string, Json>,
  prefix = "",
): FieldChange[] {
  const out: FieldChange[] = [];
  const keys = [...new Set([...Object.keys(code), ...Object.keys(discord)])].sort();
  for (const key of keys) {
    const path = prefix ? `${prefix}.${key}` : key;
    const a = code[key];
    const b = discord[key];
    if (key === "options" && Array.isArray(a) && Array.isArray(b)) {
      out.push(...optionChanges(a, b, path));
    } else if (!same(a, b)) {
      out.push({ path, code: a ?? null, discord: b ?? null });
    }
  }
  return out;
}

/** Options compared by name: a different name list is one change, then each common option. */
function optionChanges(code: Json[], discord: Json[], path: string): FieldChange[] {
  const out: FieldChange[] = [];
  const codeNames = code.map(optionName);
  const discordNames = discord.map(optionName);
  if (!same(codeNames, discordNames)) {
    out.push({ path, code: codeNames, discord: discordNames });
  }
  const byName = new Map(discord.map((o) => [optionName(o), o]));
  for (const o of code) {
    const other = byName.get(optionName(o));
    if (!other || typeof o !== "object" || typeof other !== "object") continue;
    out.push(
      ...fieldChanges(
        o as Record<string, Json>,
        other as Record<string, Json>,
        `${path}.${optionName(o)}`,
      ),
    );
  }
  return out;
}

/** Compares canonical command lists (see `canonicalManifest`). */
function diffCanonical(
  code: readonly CanonicalCommand[],
  discord: readonly CanonicalCommand[],
): ManifestDiff {
  const remote = new Map(discord.map((c) => [commandKey(c), c]));
  const local = new Set(code.map(commandKey));
  const added: CommandRef[] = [];
  const changed: CommandChange[] = [];
  let unchanged = 0;
  for (const c of code) {
    const other = remote.get(commandKey(c));
    if (!other) {
      added.push(ref(c));
      continue;
    }
    const fields = fieldChanges(c, other);
    if (fields.length) changed.push({ ...ref(c), fields });
    else unchanged++;
  }
  const removed = discord.filter((c) => !local.has(commandKey(c))).map(ref);
  return {
    added,
    removed,
    changed,
    unchanged,
    inSync: added.length === 0 && removed.length === 0 && changed.length === 0,
  };
}

/** Diff of a manifest (as sent) against Discord's answer for the scope. */
export function diffManifests(
  code: readonly unknown[],
  discord: readonly unknown[],
  opts: CanonicalOptions = {},
): ManifestDiff {
  return diffCanonical(canonicalManifest(code, opts), canonicalManifest(discord, opts));
}

const label = (c: CommandRef) => (c.type === 1 ? c.name : `${c.name} (type ${c.type})`);

/** Counts and at most `maxNames` names per kind, for the sync log and logs. */
export function summarizeDiff(diff: ManifestDiff, maxNames = 10): DiffSummary {
  return {
    added: diff.added.length,
    removed: diff.removed.length,
    changed: diff.changed.length,
    unchanged: diff.unchanged,
    names: {
      added: diff.added.slice(0, maxNames).map(label),
      removed: diff.removed.slice(0, maxNames).map(label),
      changed: diff.changed.slice(0, maxNames).map(label),
    },
  };
}

/** "1 added, 2 changed" or "in sync". */
export function describeSummary(s: DiffSummary): string {
  const parts = [
    s.added ? `${s.added} added` : "",
    s.removed ? `${s.removed} removed` : "",
    s.changed ? `${s.changed} changed` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "in sync";
}
