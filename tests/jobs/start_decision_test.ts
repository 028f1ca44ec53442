/**
 * lib/jobs/start_decision.ts: the pure decision of whether a chunk starts, continues a run or is
 * refused (the lease, continuations once per chunk, startIndex, modes and dry runs), the record a
 * new run starts with, and the Reason every refusal carries.
 */
import assert from "node:assert/strict";
import {
  decideStart,
  type LeaseState,
  newRunRecord,
  type StartDecision,
  type StartInput,
} from "../../lib/jobs/start_decision.ts";
import type { StartRequest } from "../../lib/jobs/job.ts";
import { type Reason, reason } from "../../lib/i18n/reason.ts";
import type { RunRecord, RunState } from "../../lib/jobs/store.ts";
import { assertCarries } from "./_refusal.ts";
import { runRecord } from "./_run.ts";

const NOW = 1_800_000_000_000;
const KEY = "200000000000000001";
const DEFAULTS = { autoContinue: false, defaultChunkSize: 20 };

/** A real full run, waiting: 40 of 100 done in 2 chunks, with progress a continuation keeps. */
function record(o: Partial<RunRecord> = {}): RunRecord {
  return runRecord({
    runId: "run-a",
    state: "waiting",
    mode: "full",
    dryRun: false,
    processed: 40,
    total: 100,
    counters: { items: 40 },
    chunk: 2,
    cursor: "c",
    activeMs: 5_000,
    lastError: "an earlier error",
    warnings: ["w"],
    checkpoint: { pos: 40 },
    ...o,
  });
}

function decide(
  req: Partial<StartRequest>,
  rec: RunRecord | null,
  o: Partial<Omit<StartInput, "req" | "record">> = {},
): StartDecision {
  const frozen = rec
    ? Object.freeze({ ...rec, counters: Object.freeze({ ...rec.counters }) })
    : null;
  return decideStart({
    lease: "held",
    now: NOW,
    defaults: DEFAULTS,
    ...o,
    record: frozen as RunRecord | null,
    req: { key: KEY, source: "test", ...req },
  });
}

/** A refusal: its English text as the logs and the API show it, and the Reason it carries. */
const refused = (status: "conflict" | "noop", text: string, why: Reason): StartDecision => ({
  action: "refuse",
  status,
  reason: text,
  why,
});
const fresh = (skip = 0): StartDecision => ({ action: "new", skip });

/** The action of a decision, and what it is about (reason, skip, or the continued chunk). */
function brief(d: StartDecision): string {
  if (d.action === "refuse") return `${d.status}: ${d.reason}`;
  if (d.action === "new") return `new skip ${d.skip}`;
  return `continue ${d.run.runId} chunk ${d.run.chunk}`;
}

const UNFINISHED: RunState[] = ["running", "waiting", "stopping", "stopped", "failed"];

Deno.test("decideStart: no chunk starts without the lease, whatever the request", () => {
  const cases: [LeaseState, string, Reason][] = [
    ["shutting_down", "this instance is shutting down; try again", reason("reason.shutting_down")],
    ["taken", "a chunk is already running", reason("reason.chunk_running")],
  ];
  for (const [lease, text, why] of cases) {
    for (const rec of [null, record(), record({ state: "completed" })]) {
      for (
        const req of [{}, { runId: "run-a", chunk: 3 }, { startIndex: 0 }, { onlyIfIdle: true }]
      ) {
        assert.deepStrictEqual(decide(req, rec, { lease }), refused("conflict", text, why));
      }
    }
  }
});

Deno.test("decideStart: a continuation continues only its own unfinished run, once per chunk", () => {
  const table: [string, Partial<StartRequest>, RunRecord | null, string][] = [
    ["no run", { runId: "run-a" }, null, "noop: that run was replaced"],
    ["replaced", { runId: "run-a" }, record({ runId: "run-b" }), "noop: that run was replaced"],
    [
      "completed",
      { runId: "run-a", chunk: 3 },
      record({ state: "completed" }),
      "noop: the run is already completed",
    ],
    ["same chunk", { runId: "run-a", chunk: 2 }, record(), "noop: chunk 2 has already started"],
    ["older chunk", { runId: "run-a", chunk: 1 }, record(), "noop: chunk 1 has already started"],
    ["next chunk", { runId: "run-a", chunk: 3 }, record(), "continue run-a chunk 3"],
    ["any chunk", { runId: "run-a" }, record(), "continue run-a chunk 3"],
    ["later chunk", { runId: "run-a", chunk: 9 }, record(), "continue run-a chunk 3"],
    [
      "wrong index",
      { runId: "run-a", startIndex: 7 },
      record(),
      "conflict: startIndex 7 does not match the run's checkpoint (40)",
    ],
    [
      "index 0 is wrong too",
      {
        runId: "run-a",
        startIndex: 0,
      },
      record(),
      "conflict: startIndex 0 does not match the run's checkpoint (40)",
    ],
    ["matching index", { runId: "run-a", startIndex: 40 }, record(), "continue run-a chunk 3"],
    // The run id wins over onlyIfIdle: a continuation of the pending run is what it asks for.
    ["onlyIfIdle", { runId: "run-a", onlyIfIdle: true }, record(), "continue run-a chunk 3"],
    [
      "dry run asked of a real run",
      { runId: "run-a", dryRun: true },
      record(),
      "conflict: the unfinished run is not a dry run: continue it as it is, or pass startIndex 0 to start a new one",
    ],
    [
      "real run asked of a dry run",
      { runId: "run-a", dryRun: false },
      record({ dryRun: true }),
      "conflict: the unfinished run is a dry run: continue it as it is, or pass startIndex 0 to start a new one",
    ],
    [
      "same dryness",
      { runId: "run-a", dryRun: true },
      record({ dryRun: true }),
      "continue run-a chunk 3",
    ],
  ];
  for (const [name, req, rec, want] of table) assert.equal(brief(decide(req, rec)), want, name);
  for (const state of UNFINISHED) {
    assert.equal(
      brief(decide({ runId: "run-a", chunk: 3 }, record({ state }))),
      "continue run-a chunk 3",
      state,
    );
  }
});

Deno.test("decideStart: onlyIfIdle starts only when no run is pending", () => {
  for (const state of UNFINISHED) {
    for (const mode of ["full", "incremental"]) {
      assert.deepStrictEqual(
        decide({ onlyIfIdle: true, startIndex: 0, mode: "incremental" }, record({ state, mode })),
        refused(
          "noop",
          `an unfinished ${mode} run is pending`,
          reason("reason.pending_mode", { mode }),
        ),
        `${state} ${mode}`,
      );
    }
  }
  assert.deepStrictEqual(decide({ onlyIfIdle: true, startIndex: 0 }, null), fresh());
  assert.deepStrictEqual(
    decide({ onlyIfIdle: true, startIndex: 0 }, record({ state: "completed" })),
    fresh(),
  );
  // Idle, it is a plain request: no startIndex starts anew after a completed run.
  assert.deepStrictEqual(decide({ onlyIfIdle: true }, record({ state: "completed" })), fresh());
});

Deno.test("decideStart: without startIndex, the unfinished run continues unless it differs", () => {
  assert.deepStrictEqual(decide({}, null), fresh());
  assert.deepStrictEqual(decide({ mode: "incremental" }, null), fresh());
  assert.deepStrictEqual(decide({ dryRun: true }, record({ state: "completed" })), fresh());
  for (const state of UNFINISHED) {
    assert.equal(brief(decide({}, record({ state }))), "continue run-a chunk 3", state);
    assert.equal(brief(decide({ mode: "full" }, record({ state }))), "continue run-a chunk 3");
    assert.deepStrictEqual(
      decide({ mode: "incremental" }, record({ state })),
      refused(
        "conflict",
        "an unfinished full run is pending: continue it, or pass startIndex 0 to replace it",
        reason("reason.pending_mode_replace", { mode: "full" }),
      ),
    );
    assert.deepStrictEqual(
      decide({ dryRun: true }, record({ state })),
      refused(
        "conflict",
        "the unfinished run is not a dry run: continue it as it is, or pass startIndex 0 to start a new one",
        reason("reason.pending_not_dry"),
      ),
    );
    assert.equal(brief(decide({ dryRun: false }, record({ state }))), "continue run-a chunk 3");
  }
});

Deno.test("decideStart: startIndex 0 starts anew; the checkpoint's index continues; others skip", () => {
  for (const rec of [null, record(), record({ state: "completed" }), record({ dryRun: true })]) {
    assert.deepStrictEqual(decide({ startIndex: 0, dryRun: false, mode: "x" }, rec), fresh());
  }
  for (const state of UNFINISHED) {
    assert.equal(brief(decide({ startIndex: 40 }, record({ state }))), "continue run-a chunk 3");
    // An index equal to the checkpoint continues whatever the mode asked for.
    assert.equal(
      brief(decide({ startIndex: 40, mode: "incremental" }, record({ state }))),
      "continue run-a chunk 3",
    );
    assert.equal(
      brief(decide({ startIndex: 40, dryRun: true }, record({ state }))),
      "conflict: the unfinished run is not a dry run: continue it as it is, or pass startIndex 0 to start a new one",
    );
    assert.deepStrictEqual(decide({ startIndex: 35 }, record({ state })), fresh(35));
    assert.deepStrictEqual(decide({ startIndex: 41 }, record({ state })), fresh(41));
  }
  // A finished run is never continued, even from its own end.
  assert.deepStrictEqual(decide({ startIndex: 40 }, record({ state: "completed" })), fresh(40));
  assert.deepStrictEqual(decide({ startIndex: 7 }, null), fresh(7));
});

Deno.test("decideStart: the continued record is the run's next chunk, its progress kept", () => {
  const rec = record({ state: "failed", chunkSize: 50, autoContinue: false });
  const d = decide({ chunkSize: 10 }, rec, { now: NOW + 5 });
  assert.ok(d.action === "continue");
  assert.deepStrictEqual(d.run, {
    ...rec,
    state: "running",
    chunk: 3,
    chunkSize: 10,
    chunkStartedAt: NOW + 5,
    updatedAt: NOW + 5,
    lastError: null,
    autoContinue: false,
  });
  const kept = decide({}, rec);
  assert.ok(kept.action === "continue");
  assert.equal(kept.run.chunkSize, 50);
});

Deno.test("decideStart: a continued run chains if the request, the run or the env says so", () => {
  // [request, run, env] -> chained
  const table: [boolean | undefined, boolean, boolean, boolean][] = [
    [undefined, false, false, false],
    [undefined, true, false, true],
    [undefined, false, true, true],
    [undefined, true, true, true],
    [false, true, true, false],
    [true, false, false, true],
  ];
  for (const [asked, run, env, want] of table) {
    const d = decide({ autoContinue: asked }, record({ autoContinue: run }), {
      defaults: { ...DEFAULTS, autoContinue: env },
    });
    assert.ok(d.action === "continue");
    assert.equal(d.run.autoContinue, want, JSON.stringify([asked, run, env]));
  }
});

Deno.test("newRunRecord: a new run starts at chunk 1 with the request's or the env's settings", () => {
  const req: StartRequest = { key: KEY, source: "test" };
  const base = { kind: "count", runId: "run-n", now: NOW, defaults: DEFAULTS };
  const fresh = { mode: "incremental", checkpoint: { pos: 0, skip: 3 } };
  // Nothing done yet: its counts, cursor, errors and sample at rest, as runRecord has them.
  assert.deepStrictEqual(
    newRunRecord({ ...base, req, fresh }),
    runRecord({
      kind: "count",
      key: KEY,
      runId: "run-n",
      state: "running",
      mode: "incremental",
      dryRun: false,
      chunk: 1,
      chunkSize: 20,
      startedAt: NOW,
      updatedAt: NOW,
      chunkStartedAt: NOW,
      autoContinue: false,
      checkpoint: { pos: 0, skip: 3 },
    }),
  );
  const asked = newRunRecord({
    ...base,
    defaults: { autoContinue: true, defaultChunkSize: 20 },
    req: { ...req, dryRun: true, chunkSize: 7, autoContinue: false },
    fresh,
  });
  assert.deepStrictEqual([asked.dryRun, asked.chunkSize, asked.autoContinue], [true, 7, false]);
  const envs = newRunRecord({
    ...base,
    defaults: { autoContinue: true, defaultChunkSize: 9 },
    req,
    fresh,
  });
  assert.deepStrictEqual([envs.chunkSize, envs.autoContinue], [9, true]);
});

Deno.test("decideStart: every refusal carries its Reason, said in Spanish as before", () => {
  const defaults = { autoContinue: false, defaultChunkSize: 20 };
  // [case, lease, run record, request, the Reason, its Spanish sentence]
  const table: [string, LeaseState, RunRecord | null, Partial<StartRequest>, Reason, string][] = [
    [
      "shutting down",
      "shutting_down",
      null,
      {},
      reason("reason.shutting_down"),
      "esta instancia se está apagando; inténtalo de nuevo",
    ],
    ["lease taken", "taken", null, {}, reason("reason.chunk_running"), "ya hay un tramo en curso"],
    [
      "no run",
      "held",
      null,
      { runId: "run-a" },
      reason("reason.run_replaced"),
      "esa ejecución fue sustituida",
    ],
    [
      "replaced",
      "held",
      record({ runId: "run-b" }),
      { runId: "run-a" },
      reason("reason.run_replaced"),
      "esa ejecución fue sustituida",
    ],
    [
      "completed",
      "held",
      record({ state: "completed" }),
      { runId: "run-a" },
      reason("reason.run_already", { state: "completed" }),
      "la ejecución ya está en estado completed",
    ],
    [
      "chunk started",
      "held",
      record(),
      { runId: "run-a", chunk: 2 },
      reason("reason.chunk_started", { chunk: 2 }),
      "el tramo 2 ya ha empezado",
    ],
    [
      "start index",
      "held",
      record(),
      { runId: "run-a", startIndex: 7 },
      reason("reason.start_index", { index: 7, processed: 40 }),
      "startIndex 7 no coincide con el punto de control de la ejecución (40)",
    ],
    [
      "pending",
      "held",
      record({ mode: "incremental" }),
      { onlyIfIdle: true },
      reason("reason.pending_mode", { mode: "incremental" }),
      "hay una ejecución incremental sin terminar",
    ],
    [
      "other mode",
      "held",
      record(),
      { mode: "incremental" },
      reason("reason.pending_mode_replace", { mode: "full" }),
      "hay una ejecución full sin terminar: continúala o pasa startIndex 0 para sustituirla",
    ],
    [
      "dry run pending",
      "held",
      record({ dryRun: true }),
      { dryRun: false },
      reason("reason.pending_dry"),
      "la ejecución sin terminar es una simulación: continúala tal cual o pasa startIndex 0 " +
      "para empezar una nueva",
    ],
    [
      "real run pending",
      "held",
      record(),
      { dryRun: true },
      reason("reason.pending_not_dry"),
      "la ejecución sin terminar no es una simulación: continúala tal cual o pasa startIndex 0 " +
      "para empezar una nueva",
    ],
  ];
  for (const [name, lease, rec, req, want, spanish] of table) {
    const d = decideStart({
      lease,
      record: rec,
      now: NOW,
      req: { key: KEY, source: "test", ...req },
      defaults,
    });
    assert.ok(d.action === "refuse", name);
    assertCarries(d, want, spanish, name);
  }
});
