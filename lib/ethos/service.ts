/**
 * One Ethos client per set of dependencies (per isolate), shared by the role sync and the profile
 * lookups so both count against one set of retries and stats, and the profile cache on top.
 */
import type { AppDeps } from "../deps.ts";
import { EthosClient } from "./client.ts";
import { EthosProfileClient } from "./profile.ts";
import { CachedProfiles } from "./profile_cache.ts";

const clients = new WeakMap<AppDeps, EthosClient>();
const profiles = new WeakMap<AppDeps, CachedProfiles>();

export function ethosClientFor(deps: AppDeps): EthosClient {
  let client = deps.ethos ?? clients.get(deps);
  if (!client) {
    client = new EthosClient({
      apiBase: deps.config.ethos.apiBase,
      client: deps.config.ethos.client,
      fetch: deps.fetch,
      clock: deps.clock,
      log: deps.log.child({ component: "ethos" }),
    });
    clients.set(deps, client);
  }
  return client;
}

/** Profile lookups through the 60-second KV cache. */
export function profilesFor(deps: AppDeps): CachedProfiles {
  let p = profiles.get(deps);
  if (!p) {
    p = new CachedProfiles(deps.kv, deps.clock, new EthosProfileClient(ethosClientFor(deps)));
    profiles.set(deps, p);
  }
  return p;
}
