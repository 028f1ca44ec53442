import assert from "node:assert/strict";
import { memoryLogger } from "../_log.ts";
import { ManualClock } from "../_clock.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { DiscordApiError, DiscordHttpError, RestClosedError } from "../../lib/discord/errors.ts";
import {
  callsFor,
  changeCount,
  cheapestRoute,
  type MemberTarget,
  rolesAfter,
  sendRoleCall,
  writeOutcomeOf,
} from "../../lib/discord/member_roles.ts";
import { type Call, drive, FakeDiscord, json } from "./_fake_discord.ts";

const GUILD = "200000000000000001";
const USER = "300000000000000001";
const [A, B, C, D] = [
  "400000000000000001",
  "400000000000000002",
  "400000000000000003",
  "400000000000000004",
];

function setup() {
  const clock = new ManualClock(0);
  const fake = new FakeDiscord(clock);
  const rest = new RestClient({
    token: "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm",
    apiBase: "https://discord.test/api/v10",
    fetch: fake.fetch,
    clock,
    log: memoryLogger(),
    globalLimit: 1000,
    random: () => 0.5,
  });
  const to: MemberTarget = { rest, guildId: GUILD, userId: USER, reason: "test sync" };
  return { clock, fake, rest, to };
}

const apiError = (status: number, code: number) =>
  new DiscordApiError(status, code, "refused", undefined, "PATCH", `/guilds/${GUILD}/members/:id`);

Deno.test("member roles: the change applied keeps every other role and its order", () => {
  const change = { add: [D, A], remove: [B] };
  assert.deepStrictEqual(rolesAfter([C, B, A], change), [C, A, D]);
  assert.deepStrictEqual(rolesAfter([C], { add: [], remove: [C] }), []);
  assert.equal(changeCount(change), 3);
});

Deno.test("member roles: one changed role goes by its own call, more by one PATCH", () => {
  assert.equal(cheapestRoute({ add: [A], remove: [] }), "role");
  assert.equal(cheapestRoute({ add: [], remove: [A] }), "role");
  assert.equal(cheapestRoute({ add: [A], remove: [B] }), "patch");
  assert.equal(cheapestRoute({ add: [A, B], remove: [] }), "patch");
  assert.deepStrictEqual(callsFor({ add: [A, B], remove: [C] }, "patch"), [{ kind: "patch" }]);
  assert.deepStrictEqual(callsFor({ add: [A, B], remove: [C] }, "role"), [
    { kind: "add", roleId: A },
    { kind: "add", roleId: B },
    { kind: "remove", roleId: C },
  ]);
});

Deno.test("member roles: each call is the route Discord expects, with the reason", async () => {
  const { clock, fake, to } = setup();
  const change = { add: [A], remove: [B] };
  for (const call of [...callsFor(change, "patch"), ...callsFor(change, "role")]) {
    assert.deepStrictEqual(await drive(clock, sendRoleCall(to, call, [C, B], change)), {
      kind: "done",
    });
  }
  const member = `/guilds/${GUILD}/members/${USER}`;
  assert.deepStrictEqual(fake.calls.map((c: Call) => `${c.method} ${c.path}`), [
    `PATCH ${member}`,
    `PUT ${member}/roles/${A}`,
    `DELETE ${member}/roles/${B}`,
  ]);
  // The PATCH sends the whole list: the roles read, changed.
  assert.deepStrictEqual(JSON.parse(fake.calls[0].body!), { roles: [C, A] });
  for (const c of fake.calls) assert.equal(c.headers.get("x-audit-log-reason"), "test%20sync");
});

Deno.test("member roles: Discord's refusals are sorted: the member gone, or refused for good", async () => {
  const { clock, fake, to } = setup();
  const change = { add: [A], remove: [] };
  const answer = async (status: number, code: number) => {
    fake.script.push(() => json(status, { message: "no", code }));
    return await drive(clock, sendRoleCall(to, { kind: "add", roleId: A }, [], change));
  };
  const gone = await answer(404, 10007);
  assert.equal(gone.kind, "gone");
  const perms = await answer(403, 50013);
  assert.deepStrictEqual(perms.kind === "refused" && perms.code, "missing_permissions");
  const role = await answer(404, 10011);
  assert.deepStrictEqual(role.kind === "refused" && role.code, "unknown_role");
  const other = await answer(400, 50035);
  assert.deepStrictEqual(other.kind === "refused" && other.code, "http_400");
});

Deno.test("member roles: 5xx and 429 are worth a later try; aborts and a closed client stop", () => {
  assert.equal(writeOutcomeOf(apiError(500, 0)).kind, "failed");
  assert.equal(writeOutcomeOf(apiError(429, 0)).kind, "failed");
  assert.equal(writeOutcomeOf(new DiscordHttpError(0, "PATCH", "/x", "reset")).kind, "failed");
  assert.equal(writeOutcomeOf(new Error("boom")).kind, "failed");
  assert.equal(writeOutcomeOf(new DOMException("stop", "AbortError")).kind, "stopped");
  assert.equal(writeOutcomeOf(new DOMException("late", "TimeoutError")).kind, "stopped");
  assert.equal(writeOutcomeOf(new RestClosedError()).kind, "stopped");
  // The reason a chunk's signal was aborted with (a lost lease) is a stop, not a failure...
  const lost = new Error("the chunk lost its lease");
  const hard = new AbortController();
  hard.abort(lost);
  assert.equal(writeOutcomeOf(lost, hard.signal).kind, "stopped");
  // ...but only that reason: a refusal that arrives as the signal aborts is still a refusal.
  assert.equal(writeOutcomeOf(apiError(403, 50013), hard.signal).kind, "refused");
  assert.equal(writeOutcomeOf(lost, new AbortController().signal).kind, "failed");
});

Deno.test("member roles: a write with an aborted signal is stopped, and nothing is sent", async () => {
  const { clock, fake, to } = setup();
  const hard = new AbortController();
  hard.abort(new Error("lease lost"));
  const out = await drive(
    clock,
    sendRoleCall({ ...to, signal: hard.signal }, { kind: "patch" }, [B], { add: [A], remove: [] }),
  );
  assert.equal(out.kind, "stopped");
  assert.equal(fake.calls.length, 0);
});
