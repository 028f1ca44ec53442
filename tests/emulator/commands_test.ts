import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type APIApplicationCommand, Routes } from "discord-api-types/v10";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

const manifest = [
  {
    name: "ethos",
    description: "Show an Ethos score",
    options: [{ type: 6, name: "user", description: "Who", required: false }],
  },
  { name: "sync", description: "Sync roles", default_member_permissions: "268435456" },
  { type: 2, name: "Ethos Profile" },
];

type Err = { code: number; message: string; errors?: Record<string, unknown> };

Deno.test("bulk overwrite keeps ids by name and type, creates and deletes the rest", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    const path = Routes.applicationCommands(emu.applicationId);
    const first = await api<APIApplicationCommand[]>(emu, "PUT", path, { body: manifest });
    strictEqual(first.status, 200);
    strictEqual(first.body.length, 3);
    const ethos = first.body.find((c) => c.name === "ethos")!;
    strictEqual(ethos.application_id, emu.applicationId);
    strictEqual(ethos.type, 1);
    strictEqual(ethos.version, ethos.id);
    strictEqual(ethos.default_member_permissions, null);
    strictEqual(ethos.dm_permission, true);
    strictEqual(ethos.nsfw, false);
    deepStrictEqual(ethos.integration_types, [0]);
    strictEqual(ethos.contexts, null);
    // required: false is not echoed back, as Discord drops it.
    strictEqual((ethos.options![0] as { required?: boolean }).required, undefined);
    strictEqual(first.body.find((c) => c.type === 2)!.description, "");
    strictEqual(emu.state.commands.createsToday("global"), 3);

    const second = await api<APIApplicationCommand[]>(emu, "PUT", path, {
      body: [{ ...manifest[0], description: "Changed" }, { name: "new", description: "New one" }],
    });
    strictEqual(second.body.length, 2);
    const ethos2 = second.body.find((c) => c.name === "ethos")!;
    strictEqual(ethos2.id, ethos.id);
    notStrictEqual(ethos2.version, ethos.version);
    strictEqual(emu.state.commands.createsToday("global"), 4);
    const list = await api<APIApplicationCommand[]>(emu, "GET", path);
    deepStrictEqual(list.body.map((c) => c.name).sort(), ["ethos", "new"]);
    // An unchanged overwrite keeps versions and spends no creates.
    const third = await api<APIApplicationCommand[]>(emu, "PUT", path, {
      body: [{ ...manifest[0], description: "Changed" }, { name: "new", description: "New one" }],
    });
    deepStrictEqual(third.body.map((c) => c.version), second.body.map((c) => c.version));
    strictEqual(emu.state.commands.createsToday("global"), 4);
  });
});

Deno.test("the daily create limit answers 429 with code 30034 and changes nothing", async () => {
  await withEmulator(
    { guilds: [{ members: 1 }], limits: { commandCreatesPerDay: 3 } },
    async (emu) => {
      const path = Routes.applicationGuildCommands(emu.applicationId, GUILD);
      strictEqual((await api(emu, "PUT", path, { body: manifest })).status, 200);
      const res = await api<Err & { retry_after: number }>(emu, "POST", path, {
        body: { name: "more", description: "One too many" },
      });
      strictEqual(res.status, 429);
      strictEqual(res.body.code, 30034);
      strictEqual(
        res.body.message,
        "Max number of daily application command creates has been reached (3)",
      );
      ok(res.body.retry_after > 0);
      ok(res.headers.get("retry-after"));
      strictEqual(emu.state.commandList(GUILD).length, 3);
      // Re-posting an existing name is an overwrite, not a create.
      const upsert = await api<APIApplicationCommand>(emu, "POST", path, {
        body: { name: "sync", description: "Sync roles now" },
      });
      strictEqual(upsert.status, 200);
      strictEqual(upsert.body.guild_id, GUILD);
      // Guild scope does not touch the global quota.
      strictEqual(emu.state.commands.createsToday("global"), 0);
    },
  );
});

Deno.test("command validation answers 50035 with Discord's error tree", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    const path = Routes.applicationCommands(emu.applicationId);
    const cases: [unknown, string[]][] = [
      [{ name: "Upper", description: "x" }, ["name"]],
      [{ name: "has space", description: "x" }, ["name"]],
      [{ description: "x" }, ["name"]],
      [{ name: "ok" }, ["description"]],
      [{ name: "ok", description: "x".repeat(101) }, ["description"]],
      [{ name: "x".repeat(33), description: "x" }, ["name"]],
      [{
        name: "ok",
        description: "x",
        options: Array.from(
          { length: 26 },
          (_, i) => ({ type: 3, name: `o${i}`, description: "d" }),
        ),
      }, ["options"]],
      [{
        name: "ok",
        description: "x",
        options: [{ type: 3, name: "a", description: "d" }, {
          type: 3,
          name: "b",
          description: "d",
          required: true,
        }],
      }, ["options", "1"]],
      [{
        name: "ok",
        description: "x",
        options: [{
          type: 3,
          name: "a",
          description: "d",
          choices: Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `v${i}` })),
        }],
      }, ["options", "0", "choices"]],
    ];
    for (const [body, at] of cases) {
      const res = await api<Err>(emu, "POST", path, { body });
      strictEqual(res.status, 400, JSON.stringify(body).slice(0, 80));
      strictEqual(res.body.code, 50035);
      strictEqual(res.body.message, "Invalid Form Body");
      let node = res.body.errors as Record<string, unknown>;
      for (const key of at) node = node[key] as Record<string, unknown>;
      ok(
        Array.isArray(node._errors),
        `errors at ${at.join(".")}: ${JSON.stringify(res.body.errors)}`,
      );
    }
    // Non-Latin scripts and apostrophes are valid names.
    for (const name of ["डेटा", "ข้อมูล", "über", "it's", "名前"]) {
      strictEqual(
        (await api(emu, "POST", path, { body: { name, description: "x" } })).status,
        201,
        name,
      );
    }
    const missing = await api<Err>(emu, "POST", path, { body: { description: "x" } });
    deepStrictEqual(missing.body.errors, {
      name: { _errors: [{ code: "BASE_TYPE_REQUIRED", message: "This field is required" }] },
    });
    const dup = await api<Err>(emu, "PUT", path, {
      body: [{ name: "a", description: "x" }, { name: "a", description: "y" }],
    });
    strictEqual(dup.body.code, 50035);
    ok((dup.body.errors as Record<string, unknown>)["1"]);
  });
});

Deno.test("single command get, patch, delete and unknown ids", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    const base = Routes.applicationCommands(emu.applicationId);
    const created = await api<APIApplicationCommand>(emu, "POST", base, {
      body: { name: "ping", description: "Ping" },
    });
    strictEqual(created.status, 201);
    const id = created.body.id;
    strictEqual(
      (await api<APIApplicationCommand>(
        emu,
        "GET",
        Routes.applicationCommand(emu.applicationId, id),
      )).body.name,
      "ping",
    );
    const patched = await api<APIApplicationCommand>(
      emu,
      "PATCH",
      Routes.applicationCommand(emu.applicationId, id),
      {
        body: { description: "Pong" },
      },
    );
    strictEqual(patched.body.description, "Pong");
    strictEqual(patched.body.name, "ping");
    strictEqual(
      (await api(emu, "DELETE", Routes.applicationCommand(emu.applicationId, id))).status,
      204,
    );
    const gone = await api<Err>(emu, "GET", Routes.applicationCommand(emu.applicationId, id));
    strictEqual(gone.status, 404);
    strictEqual(gone.body.code, 10063);
    const other = await api<Err>(emu, "GET", Routes.applicationCommands("999999999999999999"));
    strictEqual(other.status, 403);
  });
});

Deno.test("more than 100 chat-input commands answers 30032", async () => {
  await withEmulator(
    { guilds: [{ members: 1 }], limits: { commandCreatesPerDay: 1000 } },
    async (emu) => {
      const body = Array.from({ length: 101 }, (_, i) => ({ name: `c${i}`, description: "d" }));
      const res = await api<Err>(emu, "PUT", Routes.applicationCommands(emu.applicationId), {
        body,
      });
      strictEqual(res.status, 400);
      strictEqual(res.body.code, 30032);
      strictEqual(emu.state.commandList().length, 0);
    },
  );
});
