/**
 * lib/i18n/reason.ts: a Reason renders in each language, travels on errors and refusals, and an
 * edge explains whatever it gets (a carried Reason in the language, else the text as it is).
 */
import assert from "node:assert/strict";
import { en } from "../../lib/i18n/en.ts";
import { t } from "../../lib/i18n/mod.ts";
import {
  explain,
  isReason,
  type Reason,
  reason,
  ReasonError,
  type ReasonKey,
  reasonOf,
  ReasonRangeError,
  reasonText,
  refusal,
} from "../../lib/i18n/reason.ts";

const REASON_KEYS = Object.keys(en).filter((k) => k.startsWith("reason.")) as ReasonKey[];

/** Each placeholder of the key's English text filled with a distinct sample value. */
function sample(key: ReasonKey): Reason {
  const names = [...en[key].matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return reason(key, Object.fromEntries(names.map((n, i) => [n, `v${i}-${n}`])));
}

Deno.test("reason: renders its entry with its params in each language", () => {
  const r = reason("reason.backup_not_found", { id: "ab12" });
  assert.deepStrictEqual(r, { key: "reason.backup_not_found", params: { id: "ab12" } });
  assert.deepStrictEqual(reason("reason.no_run"), { key: "reason.no_run" });
  assert.equal(reasonText("en", r), "no backup with id ab12 in this server");
  assert.equal(reasonText("es", r), t("es", "reason.backup_not_found", { id: "ab12" }));
  assert.notEqual(reasonText("es", r), reasonText("en", r));
});

Deno.test("reason: an error's message is its English text, and it carries its Reason", () => {
  const r = reason("reason.backup_pinned", { id: "ab12" });
  const cause = new Error("under");
  const e = new ReasonError(r, { cause });
  assert.equal(e.message, "backup ab12 is pinned: unpin it first");
  assert.equal(e.name, "ReasonError");
  assert.equal(e.cause, cause);
  assert.deepStrictEqual(reasonOf(e), r);
  assert.equal(reasonOf(new Error("plain")), undefined);
  const foreign = Object.assign(new Error("x"), { reason: { key: "reason.nope" } });
  assert.equal(reasonOf(foreign), undefined, "only keys of the catalogue");
  assert.equal(reasonOf(Object.assign(new Error("x"), { reason: "text" })), undefined);
  const badParams = { key: "reason.run_is", params: { state: { toString: () => "x" } } };
  assert.equal(reasonOf(Object.assign(new Error("x"), { reason: badParams })), undefined);
  assert.equal(isReason(reason("reason.run_is", { state: "waiting" })), true);
  assert.equal(isReason({ key: "reason.run_is", params: null }), false);
});

Deno.test("reason: an edge explains a carried Reason in the language", () => {
  const r = reason("reason.run_is", { state: "waiting" });
  assert.equal(explain("es", new ReasonError(r)), t("es", "reason.run_is", { state: "waiting" }));
  assert.equal(explain("es", { reason: "the run is waiting", why: r }), reasonText("es", r));
  assert.equal(explain("en", { reason: "the run is waiting", why: r }), "the run is waiting");
  // The Reason wins over the text beside it.
  assert.equal(explain("es", { reason: "something else", why: r }), reasonText("es", r));
});

Deno.test("reason: text without a Reason is shown as it is, in every language", () => {
  // Even a catalogue sentence: every producer of one carries its Reason, so text without one is
  // someone else's words (or a record stored before its producer carried Reasons).
  assert.equal(explain("es", "no run"), "no run");
  assert.equal(explain("es", { reason: "no run" }), "no run");
  assert.equal(explain("es", new Error("no run")), "no run");
  assert.equal(explain("es", "something new"), "something new");
  assert.equal(explain("en", "no run"), "no run");
});

Deno.test("reason: a range error carries its Reason and stays a RangeError", () => {
  const r = reason("reason.note_too_long", { max: 500 });
  const e = new ReasonRangeError(r);
  assert.ok(e instanceof RangeError);
  assert.equal(e.name, "RangeError");
  assert.equal(e.message, "a note has at most 500 characters");
  assert.deepStrictEqual(reasonOf(e), r);
  assert.equal(explain("es", e), "una nota tiene como máximo 500 caracteres");
});

/**
 * Each entry in Spanish with sample params, as members read it before errors and refusals carried
 * their Reason (when the edge matched the English text to its entry). A new entry adds its line.
 */
const SPANISH: Record<string, string> = {
  "no_run": "no hay ninguna ejecución",
  "run_completed": "la ejecución ya terminó",
  "run_failed": "la ejecución falló",
  "run_stopped": "la ejecución está detenida",
  "run_is": "la ejecución está en estado v0-state",
  "run_already": "la ejecución ya está en estado v0-state",
  "run_replaced": "esa ejecución fue sustituida",
  "chunk_running": "ya hay un tramo en curso",
  "chunk_started": "el tramo v0-chunk ya ha empezado",
  "shutting_down": "esta instancia se está apagando; inténtalo de nuevo",
  "lease_lost": "se perdió el bloqueo al empezar",
  "start_index":
    "startIndex v0-index no coincide con el punto de control de la ejecución (v1-processed)",
  "pending_mode": "hay una ejecución v0-mode sin terminar",
  "pending_mode_replace":
    "hay una ejecución v0-mode sin terminar: continúala o pasa startIndex 0 para sustituirla",
  "pending_dry":
    "la ejecución sin terminar es una simulación: continúala tal cual o pasa startIndex 0 para empezar una nueva",
  "pending_not_dry":
    "la ejecución sin terminar no es una simulación: continúala tal cual o pasa startIndex 0 para empezar una nueva",
  "sync_inactive":
    "la sincronización de roles está detenida aquí: el bot fue expulsado de este servidor o perdió el acceso; vuelve a invitarlo y ejecuta /ethos_setup view",
  "sync_bot_gone":
    "el bot ya no está en este servidor (o no puede verlo): vuelve a invitarlo y ejecuta /ethos_setup view allí",
  "sync_no_verified_role":
    "la sincronización de roles no está configurada: elige el rol verificado (o ninguno) con /ethos_setup verified (o define VERIFIED_ROLE_ID)",
  "sync_no_tiers":
    "la sincronización de roles no está configurada: asigna los roles de nivel con /ethos_setup (o define ETHOS_ROLE_* o ETHOS_TIERS)",
  "sync_no_manage_roles": "al bot le falta el permiso Manage Roles en este servidor",
  "sync_disabled":
    "la sincronización de roles está desactivada en el servidor v0-guild (función role_sync)",
  "backup_disabled":
    "las copias de seguridad están desactivadas en el servidor v0-guild (función backups)",
  "backup_capturing": "ya se está capturando una copia de este servidor",
  "backup_restoring": "ya hay una restauración en curso en este servidor (solo una a la vez)",
  "backup_cooldown":
    "se hizo una copia hace menos de v0-cooldown s; inténtalo de nuevo dentro de v1-wait s",
  "backup_cap":
    "este servidor tiene v0-count copias, el máximo permitido (v1-max); borra o desfija alguna antigua primero",
  "backup_cap_capturing": "este servidor alcanzó su límite de v0-max copias durante la captura",
  "backup_not_found": "no hay ninguna copia con el id v0-id en este servidor",
  "backup_pinned": "la copia v0-id está fijada: desfíjala primero",
  "backup_corrupt": "la copia v0-id no superó la verificación: v1-detail",
  "schedule_hours": "las horas deben ser un número entero entre v0-min y v1-max",
  "note_too_long": "una nota tiene como máximo v0-max caracteres",
};

Deno.test("reason: every entry says in Spanish what it said before", () => {
  assert.deepStrictEqual(
    REASON_KEYS.map((k) => k.slice("reason.".length)).sort(),
    Object.keys(SPANISH).sort(),
  );
  for (const key of REASON_KEYS) {
    const r = sample(key);
    const spanish = SPANISH[key.slice("reason.".length)];
    assert.equal(explain("es", new ReasonError(r)), spanish, key);
    assert.equal(explain("es", refusal(r)), spanish, key);
    assert.equal(explain("en", refusal(r)), reasonText("en", r), key);
  }
});

Deno.test("i18n: the lower layers' reasons are said in the language, other text kept", () => {
  const r = (key: ReasonKey, params?: Record<string, string>) => refusal(reason(key, params));
  assert.deepStrictEqual(explain("es", r("reason.no_run")), "no hay ninguna ejecución");
  assert.deepStrictEqual(explain("es", r("reason.run_completed")), "la ejecución ya terminó");
  assert.deepStrictEqual(
    explain("es", r("reason.run_is", { state: "waiting" })),
    "la ejecución está en estado waiting",
  );
  assert.deepStrictEqual(
    explain(
      "es",
      new ReasonError(
        reason("reason.backup_corrupt", { id: "ab12", detail: "checksum mismatch (x.y)" }),
      ),
    ),
    "la copia ab12 no superó la verificación: checksum mismatch (x.y)",
  );
  assert.deepStrictEqual(explain("es", "something new"), "something new");
  // English is always the text as given.
  assert.deepStrictEqual(explain("en", r("reason.no_run")), "no run");
});
