/**
 * A router small enough to read in one sitting: exact paths are a map lookup (the interactions
 * hot path), parameterised ones use URLPattern. Unknown paths get 404, known paths with another
 * method 405 with an Allow header.
 */
import { httpError } from "./response.ts";

export interface RouteContext {
  url: URL;
  params: Record<string, string | undefined>;
  /** Remote address when the server knows it. */
  remote?: string;
}

export type Handler = (req: Request, ctx: RouteContext) => Response | Promise<Response>;

interface PatternRoute {
  pattern: URLPattern;
  methods: Map<string, Handler>;
}

export class Router {
  #exact = new Map<string, Map<string, Handler>>();
  #patterns: PatternRoute[] = [];

  on(method: string | string[], path: string, handler: Handler): this {
    const methods = Array.isArray(method) ? method : [method];
    let table: Map<string, Handler>;
    if (path.includes(":") || path.includes("*")) {
      let route = this.#patterns.find((r) => r.pattern.pathname === path);
      if (!route) {
        route = { pattern: new URLPattern({ pathname: path }), methods: new Map() };
        this.#patterns.push(route);
      }
      table = route.methods;
    } else {
      table = this.#exact.get(path) ?? new Map();
      this.#exact.set(path, table);
    }
    for (const m of methods) table.set(m.toUpperCase(), handler);
    return this;
  }

  handle = async (req: Request, remote?: string): Promise<Response> => {
    const url = new URL(req.url);
    let table = this.#exact.get(url.pathname);
    let params: Record<string, string | undefined> = {};
    if (!table) {
      for (const route of this.#patterns) {
        const m = route.pattern.exec({ pathname: url.pathname });
        if (m) {
          table = route.methods;
          params = m.pathname.groups;
          break;
        }
      }
    }
    if (!table) return httpError(404, "not found");
    const method = req.method === "HEAD" && !table.has("HEAD") ? "GET" : req.method;
    const handler = table.get(method);
    if (!handler) {
      const res = httpError(405, `method ${req.method} not allowed`);
      res.headers.set("allow", [...table.keys()].join(", "));
      return res;
    }
    return await handler(req, { url, params, remote });
  };
}
