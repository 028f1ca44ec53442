/**
 * The status page's small pieces of HTML, shared by every section: times, numbers, sizes and
 * durations as people read them, labelled figures with stable ids, and the "unavailable" note.
 */
import { escapeHtml } from "../http/html.ts";

/** A time element in UTC, or a dash. */
export const time = (ms: number | string | null | undefined) => {
  if (ms === null || ms === undefined) return "—";
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")} UTC</time>`;
};
/** A whole number with thousands separators, or a dash. */
export const num = (n: number | null | undefined) =>
  n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
/** A size in B, kB or MB. */
export const bytes = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
/** Seconds in s, min or h, or a dash when unknown. */
export const duration = (s: number | null | undefined) => {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
};

/** A figure with a stable id, so tests and the refresh script can find it. */
export const figure = (id: string, label: string, value: string) =>
  `<div class="fig"><dt id="${id}-label">${
    escapeHtml(label)
  }</dt><dd id="${id}" aria-labelledby="${id}-label">${value}</dd></div>`;

/** What a section shows when its data could not be read. */
export function unavailable(error: string): string {
  return `<p class="warn" role="status">Unavailable: ${escapeHtml(error)}</p>`;
}

/** Seconds as a data attribute: to the millisecond, no float noise. */
export const secs = (v: number) => String(Math.round(v * 1000) / 1000);
/** The UTC hour and minute of an epoch ms. */
export const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
