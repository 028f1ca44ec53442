import assert from "node:assert/strict";
import { changeCount, rolesAfter } from "../../lib/discord/member_roles.ts";
import {
  diff,
  hierarchy,
  managedRoles,
  type ScoreInput,
  type SyncRules,
  targetRoles,
  tierFor,
} from "../../lib/sync/rule.ts";
import { testConfig } from "../_config.ts";

const V = "100000000000000010"; // verified
const P = "100000000000000011"; // profile
const EX = "100000000000000020";
const RE = "100000000000000021";
const NE = "100000000000000022";
const QU = "100000000000000023";
const UN = "100000000000000024";
const OTHER = "100000000000000099";

const rules: SyncRules = {
  verifiedRoleId: V,
  profileRoleId: P,
  tiers: [
    { name: "Exemplary", minScore: 2000, roleId: EX },
    { name: "Reputable", minScore: 1600, roleId: RE },
    { name: "Neutral", minScore: 1200, roleId: NE },
    { name: "Questionable", minScore: 800, roleId: QU },
    { name: "Untrusted", minScore: 0, roleId: UN },
  ],
};

const sorted = (t: ReturnType<typeof targetRoles>) =>
  t.kind === "target" ? [...t.roles].sort() : `skip:${t.reason}`;

Deno.test("rule: target roles by verification and score", () => {
  const table: [string, { roles: string[]; bot?: boolean }, ScoreInput, string[] | string][] = [
    ["verified exemplary", { roles: [V] }, 2400, [EX, P].sort()],
    ["boundary 2000", { roles: [V] }, 2000, [EX, P].sort()],
    ["just below 2000", { roles: [V] }, 1999, [RE, P].sort()],
    ["reputable 1600", { roles: [V] }, 1600, [RE, P].sort()],
    ["neutral 1200", { roles: [V] }, 1200, [NE, P].sort()],
    ["questionable 800", { roles: [V] }, 800, [QU, P].sort()],
    ["untrusted 0", { roles: [V] }, 0, [UN, P].sort()],
    ["untrusted 799", { roles: [V] }, 799, [UN, P].sort()],
    ["verified, no score", { roles: [V] }, null, []],
    ["verified, score not asked", { roles: [V] }, undefined, []],
    ["not verified, has score", { roles: [EX] }, 2400, []],
    ["not verified, no score", { roles: [] }, null, []],
    ["not verified, ethos down", { roles: [QU] }, "error", []],
    ["verified, ethos down: skipped", { roles: [V, QU] }, "error", "skip:score_unavailable"],
    ["bot", { roles: [V], bot: true }, 2400, "skip:bot"],
  ];
  for (const [name, member, score, want] of table) {
    assert.deepStrictEqual(sorted(targetRoles(member, score, rules)), want, name);
  }
});

Deno.test("rule: without a profile role only the tier is held", () => {
  const r: SyncRules = { ...rules, profileRoleId: undefined };
  assert.deepStrictEqual(sorted(targetRoles({ roles: [V] }, 1700, r)), [RE]);
  assert.deepStrictEqual([...managedRoles(r)].sort(), [EX, NE, QU, RE, UN].sort());
});

Deno.test("rule: ETHOS_TIERS maps Ethos's ten levels; a score below every tier gets none", () => {
  const ids = Array.from({ length: 10 }, (_, i) => String(200000000000000000n + BigInt(i)));
  const levels = [
    ["untrusted", 0],
    ["questionable", 800],
    ["neutral", 1200],
    ["known", 1400],
    ["established", 1600],
    ["reputable", 1800],
    ["exemplary", 2000],
    ["distinguished", 2200],
    ["revered", 2400],
    ["renowned", 2600],
  ] as const;
  const config = testConfig({
    ETHOS_TIERS: JSON.stringify(
      levels.map(([name, minScore], i) => ({ name, minScore, roleId: ids[i] })),
    ),
  });
  const tiers = config.ethos.tiers;
  const table: [number, string][] = [
    [0, "untrusted"],
    [1399, "neutral"],
    [1400, "known"],
    [1799, "established"],
    [2199, "exemplary"],
    [2200, "distinguished"],
    [2599, "revered"],
    [2800, "renowned"],
  ];
  for (const [score, name] of table) {
    assert.deepStrictEqual(tierFor(score, tiers)?.name, name, `score ${score}`);
  }
  const partial = tiers.filter((t) => t.minScore >= 1200);
  assert.deepStrictEqual(tierFor(500, partial), undefined);
  assert.deepStrictEqual(
    sorted(
      targetRoles({ roles: [V] }, 500, { verifiedRoleId: V, tiers: partial, profileRoleId: P }),
    ),
    [P],
  );
});

Deno.test("rule: diff touches only managed, manageable roles", () => {
  const managed = managedRoles(rules);
  const all = new Set([...managed]);
  const table: [
    string,
    string[],
    string[],
    Set<string>,
    { add: string[]; remove: string[]; blocked: string[] },
  ][] = [
    ["in sync", [V, EX, P, OTHER], [EX, P], all, { add: [], remove: [], blocked: [] }],
    ["new member", [V], [NE, P], all, { add: [NE, P].sort(), remove: [], blocked: [] }],
    ["tier change", [V, QU, P], [NE, P], all, { add: [NE], remove: [QU], blocked: [] }],
    ["two tiers held", [V, NE, QU, P], [NE, P], all, { add: [], remove: [QU], blocked: [] }],
    ["unverified loses all", [EX, P, OTHER], [], all, {
      add: [],
      remove: [EX, P].sort(),
      blocked: [],
    }],
    ["other roles untouched", [OTHER, V], [], all, { add: [], remove: [], blocked: [] }],
    [
      "tier above the bot: blocked, rest applied",
      [V, QU],
      [EX, P],
      new Set([...all].filter((r) => r !== EX)),
      { add: [P], remove: [QU], blocked: [EX] },
    ],
    [
      "removal above the bot: blocked",
      [V, EX, NE, P],
      [NE, P],
      new Set([...all].filter((r) => r !== EX)),
      { add: [], remove: [], blocked: [EX] },
    ],
  ];
  for (const [name, current, target, manageable, want] of table) {
    const d = diff(current, new Set(target), managed, manageable);
    assert.deepStrictEqual(
      { add: d.add, remove: d.remove, blocked: d.blocked.map((b) => b.roleId) },
      want,
      name,
    );
  }
});

Deno.test("rule: a diff written by the member-role writer keeps every other role and order", () => {
  // A blocked change is reported, never written.
  const blocked = [{ roleId: EX, op: "add" as const, reason: "role_above_bot" as const }];
  const d = { add: [NE], remove: [QU], blocked };
  assert.deepStrictEqual(rolesAfter([OTHER, V, QU, P], d), [OTHER, V, P, NE]);
  assert.deepStrictEqual(changeCount(d), 2);
});

Deno.test("rule: hierarchy from the bot's highest role", () => {
  const guild = "100000000000000000";
  const roles = [
    { id: guild, position: 0, permissions: "0" },
    { id: UN, position: 1 },
    { id: EX, position: 5 },
    { id: "100000000000000050", position: 6, managed: true, permissions: String(1n << 28n) }, // bot role
    { id: "100000000000000051", position: 7, permissions: "8" }, // admin, above the bot
    { id: "100000000000000052", position: 3, managed: true }, // another integration
  ];
  const h = hierarchy(guild, roles, ["100000000000000050"]);
  assert.deepStrictEqual(h.canManageRoles, true);
  assert.deepStrictEqual([...h.manageable].sort(), [UN, EX].sort());
  const none = hierarchy(guild, roles.map((r) => ({ ...r, permissions: "0" })), [
    "100000000000000050",
  ]);
  assert.deepStrictEqual(none.canManageRoles, false);
  assert.deepStrictEqual(none.manageable.size, 0);
  // Same position: the lower id ranks higher, so a role with a higher id at the bot's position is below.
  const tie = hierarchy(guild, [
    { id: guild, position: 0 },
    { id: "100000000000000050", position: 4, permissions: String(1n << 28n) },
    { id: "100000000000000060", position: 4 },
    { id: "100000000000000040", position: 4 },
  ], ["100000000000000050"]);
  assert.deepStrictEqual([...tie.manageable], ["100000000000000060"]);
  const owner = hierarchy(guild, roles, [], true);
  assert.deepStrictEqual(owner.manageable.has("100000000000000051"), true);
});

// --- the richer role model: levels by API, variants, validator and human roles, default profiles

const BASE = "100000000000000030";
const BV = "100000000000000031"; // validator variant
const BH = "100000000000000032"; // human variant
const BHV = "100000000000000033"; // human+validator variant
const LOW = "100000000000000034";
const VAL = "100000000000000040";
const HUM = "100000000000000041";

const rich: SyncRules = {
  verifiedRoleId: V,
  profileRoleId: P,
  validatorRoleId: VAL,
  humanRoleId: HUM,
  tiers: [
    {
      name: "Known",
      minScore: 1400,
      roleId: BASE,
      validatorRoleId: BV,
      humanRoleId: BH,
      humanValidatorRoleId: BHV,
    },
    { name: "Untrusted", minScore: 0, roleId: LOW },
  ],
};

Deno.test("rule: the level the API reports wins over the table; unknown levels are ignored", () => {
  const ten = testConfig(Object.fromEntries(
    ["UNTRUSTED", "QUESTIONABLE", "NEUTRAL", "KNOWN", "ESTABLISHED", "REPUTABLE"].map((
      l,
      i,
    ) => [`ETHOS_ROLE_${l}`, String(300000000000000000n + BigInt(i))]),
  )).ethos.tiers;
  const name = (score: number, level?: string) => tierFor(score, ten, level)?.name;
  assert.deepStrictEqual(name(1850), "Reputable", "by table");
  assert.deepStrictEqual(name(1850, "reputable"), "Reputable", "API and table agree");
  assert.deepStrictEqual(name(1850, "known"), "Known", "API says known: known");
  assert.deepStrictEqual(name(1300, "established"), "Established", "API says higher: higher");
  assert.deepStrictEqual(name(1850, "nonsense"), "Reputable", "an unknown level string: the table");
  // No role for exemplary..renowned: the nearest lower level with a role.
  assert.deepStrictEqual(name(2700, "renowned"), "Reputable");
  assert.deepStrictEqual(name(2100), "Reputable");
});

Deno.test("rule: the most specific configured variant, one tier role per member", () => {
  const standing = (validator: boolean, human: boolean) => ({ score: 1500, validator, human });
  const table: [string, ScoreInput, string[]][] = [
    ["base", standing(false, false), [BASE, P]],
    ["validator", standing(true, false), [BV, P, VAL]],
    ["human", standing(false, true), [BH, P, HUM]],
    ["both", standing(true, true), [BHV, P, VAL, HUM]],
    ["below the tier: its own base", { score: 100, validator: true, human: true }, [
      LOW,
      P,
      VAL,
      HUM,
    ]],
  ];
  for (const [label, input, want] of table) {
    assert.deepStrictEqual(sorted(targetRoles({ roles: [V] }, input, rich)), want.sort(), label);
  }
  // Only some variants configured: human+validator falls to validator, then human, then base.
  const partial: SyncRules = {
    ...rich,
    tiers: [{ name: "Known", minScore: 1400, roleId: BASE, humanRoleId: BH }],
  };
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [V] }, { score: 1500, validator: true, human: true }, partial)),
    [BH, P, VAL, HUM].sort(),
  );
  assert.deepStrictEqual(
    [...managedRoles(rich)].sort(),
    [BASE, BV, BH, BHV, LOW, P, VAL, HUM].sort(),
  );
});

Deno.test("rule: unknown validator or human status keeps what the member holds", () => {
  // A bare score (flags not read) never strips a validator or human role, nor a variant.
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [V, BV, VAL] }, 1500, rich)),
    [BV, P, VAL].sort(),
  );
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [V, BHV] }, 1500, rich)),
    [BHV, P, VAL, HUM].sort(),
  );
  assert.deepStrictEqual(sorted(targetRoles({ roles: [V, BASE] }, 1500, rich)), [BASE, P].sort());
  // Known flags do change them.
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [V, BV, VAL] }, { score: 1500, validator: false }, rich)),
    [BASE, P].sort(),
  );
});

Deno.test("rule: a default profile holds no managed role unless those count", () => {
  const def = { score: 1200, isDefault: true, validator: false, human: false };
  assert.deepStrictEqual(sorted(targetRoles({ roles: [V, LOW, P] }, def, rich)), []);
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [V] }, def, { ...rich, countDefaultProfiles: true })),
    [LOW, P].sort(),
  );
  // Failure paths are unchanged: an error skips, a missing score holds nothing.
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [V, BV] }, "error", rich)),
    "skip:score_unavailable",
  );
  assert.deepStrictEqual(sorted(targetRoles({ roles: [V, BV] }, null, rich)), []);
});

Deno.test("rule: verified 'none' makes every member with an Ethos profile eligible", () => {
  const open: SyncRules = { ...rich, verifiedRoleId: null };
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [] }, { score: 1500, validator: false, human: false }, open)),
    [BASE, P].sort(),
  );
  assert.deepStrictEqual(
    sorted(targetRoles({ roles: [BASE, P] }, null, open)),
    [],
    "no profile: none",
  );
  assert.deepStrictEqual(sorted(targetRoles({ roles: [] }, 1500, { ...open })), [BASE, P].sort());
  assert.deepStrictEqual(sorted(targetRoles({ roles: [], bot: true }, 1500, open)), "skip:bot");
});
