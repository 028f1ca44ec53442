/** A small exact-segment router: literal segments beat nothing, `:name` segments capture. */

export interface RouteShape {
  method: string;
  /** e.g. "/guilds/:guild/members/:user" */
  pattern: string;
}

interface Compiled<R> {
  route: R;
  segments: string[];
}

export type Match<R> =
  | { kind: "found"; route: R; params: Record<string, string> }
  | { kind: "method-not-allowed" }
  | { kind: "not-found" };

export class Router<R extends RouteShape> {
  /** Routes grouped by segment count, so a lookup only tries same-length patterns. */
  #byLength = new Map<number, Compiled<R>[]>();

  add(route: R): this {
    const segments = route.pattern.split("/").filter(Boolean);
    const list = this.#byLength.get(segments.length) ?? [];
    list.push({ route, segments });
    // Patterns with more literal segments first, so "@original"-style literals win.
    list.sort((a, b) => literals(b.segments) - literals(a.segments));
    this.#byLength.set(segments.length, list);
    return this;
  }

  match(method: string, path: string): Match<R> {
    let parts: string[];
    try {
      // Decoded first, so "/users/%40me" (what Routes.user("@me") builds) meets "@me".
      parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      return { kind: "not-found" };
    }
    const candidates = this.#byLength.get(parts.length) ?? [];
    let pathMatched = false;
    for (const c of candidates) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if (c.route.method === method) return { kind: "found", route: c.route, params };
      pathMatched = true;
    }
    return pathMatched ? { kind: "method-not-allowed" } : { kind: "not-found" };
  }
}

function literals(segments: string[]): number {
  return segments.filter((s) => !s.startsWith(":")).length;
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(":")) {
      params[p.slice(1)] = parts[i];
    } else if (p !== parts[i]) {
      return undefined;
    }
  }
  return params;
}
