/**
 * The one redaction function: everything logged or replied passes through it. It strips bot
 * tokens, interaction tokens, Ed25519 signatures, bearer tokens and webhook URLs, plus any exact
 * secret registered at start-up (the configured tokens), wherever they appear.
 */
const REDACTED = "[redacted]";
/** What replaces a value nested deeper than redaction looks (it could hide anything). */
const TRUNCATED = "[truncated]";
const MAX_DEPTH = 8;

/** Each pattern with its replacement ($1 keeps a prefix that is not secret). */
const RULES: [RegExp, string][] = [
  // Discord webhook URLs carry their token in the path.
  [
    /https?:\/\/(?:[\w-]+\.)*discord(?:app)?\.com\/api(?:\/v\d+)?\/webhooks\/\d+\/[\w.-]+/gi,
    REDACTED,
  ],
  // Any API path with an interaction or webhook token (also relative paths, any host).
  [/(\/(?:webhooks|interactions)\/\d+\/)[\w.-]{20,}/gi, `$1${REDACTED}`],
  // An Authorization header (or field) with a scheme: the credential goes whatever it looks like.
  [
    /\b(authorization["']?\s*[:=]\s*["']?(?:Bearer|Bot|Basic))\s+[^\s"',;]+/gi,
    `$1 ${REDACTED}`,
  ],
  // "Bearer <credential>" anywhere (the scheme is case-insensitive). The credential must look
  // like one (a digit or symbol in it, not only digits), so prose like "the bearer receives" and
  // snowflake ids stay readable.
  [/\b(Bearer)\s+(?!\d+\b)(?=[\w.~+/=-]*[\d.~+/=_-])[\w.~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // "Bot <token>", case-sensitive as Discord writes it; same shape rule, so "Bot connected" or
  // "Bot 123456789012345678 joined" are left alone.
  [/\b(Bot)\s+(?!\d+\b)(?=[\w.~+/=-]*[\d.~+/=_-])[\w.~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // Bot tokens: base64(user id) . timestamp . hmac. Bounded by lookarounds rather than \b, so a
  // token ending in "-" or "_" is removed whole.
  [/(?<![\w-])[MNO][\w-]{23,27}\.[\w-]{6,7}\.[\w-]{27,}(?![\w-])/g, REDACTED],
  // Interaction tokens are long base64 strings starting with "aW50ZXJhY3Rpb246" ("interaction:").
  [/\baW50ZXJhY3Rpb246[\w.-]+/g, REDACTED],
  // Ed25519 signatures (128 hex chars).
  [/\b[0-9a-f]{128}\b/gi, REDACTED],
];

/** Keys whose value is a secret whatever it looks like (matched case-insensitively, whole). */
const SENSITIVE_KEY =
  /^(?:token|authorization|proxy-authorization|cookie|set-cookie|password|passwd|secret|signature|x-signature-ed25519|api[-_]?key|.*[-_]token|.*secret.*)$/i;
/** camelCase token keys: accessToken, syncAuthToken, botToken. */
const CAMEL_TOKEN_KEY = /[a-z0-9]Token$/;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key) || CAMEL_TOKEN_KEY.test(key);
}

/** Registered secrets, longest first so one that contains another is removed whole. */
let registered: string[] = [];

/** Register exact secret values (config tokens) to be masked wherever they occur. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 6 || registered.includes(value)) return;
  registered = [...registered, value].sort((a, b) => b.length - a.length);
}

export function redactString(input: string): string {
  let out = input;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of RULES) {
    out = out.replace(pattern, replacement);
  }
  return out;
}

/**
 * Deep-redacts strings in any JSON-like value; keys that name secrets are masked whole. Errors
 * become `{ name, message }`; objects with `toJSON` (Date, URL) are redacted as what they
 * serialise to; anything nested deeper than redaction looks is replaced, never passed through.
 */
export function redact<T>(value: T, depth = 0): T {
  if (typeof value === "string") return redactString(value) as T;
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) return TRUNCATED as T;
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message) } as T;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1)) as T;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    let json: unknown;
    try {
      json = toJSON.call(value);
    } catch {
      return TRUNCATED as T;
    }
    return redact(json, depth + 1) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSensitiveKey(k) && v !== null && v !== undefined && typeof v !== "boolean"
      ? REDACTED
      : redact(v, depth + 1);
  }
  return out as T;
}
