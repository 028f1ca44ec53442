/** Small fetch helpers shared by the emulator's own tests. */
import { type Emulator, type EmulatorOptions, startEmulator } from "./server.ts";

export interface ApiResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  body?: unknown;
  /** false: no Authorization header; a string: that header value. */
  auth?: boolean | string;
  reason?: string;
  headers?: Record<string, string>;
}

/** A Discord call against the emulator; the body is parsed when JSON, else text. */
export async function api<T = unknown>(
  emu: Emulator,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== false) {
    headers.authorization = typeof opts.auth === "string" ? opts.auth : `Bot ${emu.token}`;
  }
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.reason !== undefined) headers["x-audit-log-reason"] = encodeURIComponent(opts.reason);
  const res = await fetch(emu.discordBase + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.includes("json");
  return {
    status: res.status,
    headers: res.headers,
    body: (isJson && text ? JSON.parse(text) : text) as T,
  };
}

/** An Ethos call against the emulator. */
export async function ethos<T = unknown>(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  client = "emulator-tests",
): Promise<ApiResult<T>> {
  const res = await fetch(emu.ethosBase + path, {
    method,
    headers: { "content-type": "application/json", "x-ethos-client": client },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() as T };
}

/** Runs `fn` against a fresh emulator and always closes it. */
export async function withEmulator(
  options: EmulatorOptions,
  fn: (emu: Emulator) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator(options);
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

export const GUILD = "200000000000000001";
