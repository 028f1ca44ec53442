/**
 * A small, dependency-free assertion library for the test suite (JSR's @std/assert is not
 * reachable here). The API mirrors @std/assert so tests read the same way:
 *
 * ```ts
 * import { assertEquals, assertRejects } from "./_assert.ts";
 * assertEquals({ a: [1, 2n] }, { a: [1, 2n] });
 * await assertRejects(() => work(), TypeError, "bad input");
 * ```
 *
 * Every failure throws {@link AssertionError} with a readable message; `assertEquals` and
 * friends print both values and a line diff of their `Deno.inspect` output.
 *
 * Deep equality ({@link equal}) compares primitives with `Object.is` (so `NaN` equals `NaN` and
 * `0` differs from `-0`), plain objects by their own enumerable keys (a key holding `undefined`
 * is not the same as a missing key), arrays element by element, `Map`s and `Set`s by deep
 * content regardless of insertion order, typed arrays / `ArrayBuffer` / `DataView` byte by byte,
 * `Date` by time, `RegExp` by source and flags, `URL` by href, errors by name and message, and
 * objects of different classes as unequal. Cycles are handled.
 */

/** Thrown by every assertion in this module. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Any constructor of errors, for `assertThrows`/`assertRejects`. */
// deno-lint-ignore no-explicit-any
export type ErrorClass<E extends Error = Error> = abstract new (...args: any[]) => E;

// ---------------------------------------------------------------------------------------------
// Deep equality

function isTypedArray(v: unknown): v is ArrayBufferView & ArrayLike<number | bigint> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function bytesOf(v: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isIndex(k: PropertyKey): boolean {
  return typeof k === "string" && /^(?:0|[1-9]\d*)$/.test(k);
}

function ownKeys(o: object): PropertyKey[] {
  return Reflect.ownKeys(o).filter((k) => Object.prototype.propertyIsEnumerable.call(o, k));
}

/**
 * Deep structural equality, as used by {@link assertEquals}. Exported for tests that need a
 * boolean (for example inside `Array.prototype.filter`).
 */
export function equal(a: unknown, b: unknown): boolean {
  return deepEqual(a, b, new Map());
}

function deepEqual(a: unknown, b: unknown, seen: Map<object, object>): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return false;
  }
  // Cycles: assume equal while a pair is being compared further up the stack.
  if (seen.get(a) === b) return true;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  seen.set(a, b);
  try {
    return compareObjects(a, b, seen);
  } finally {
    seen.delete(a);
  }
}

function compareObjects(a: object, b: object, seen: Map<object, object>): boolean {
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof URL) return a.href === (b as URL).href;
  if (a instanceof WeakMap || a instanceof WeakSet || a instanceof Promise) return false;
  if (
    a instanceof Number || a instanceof String || a instanceof Boolean ||
    (typeof BigInt !== "undefined" && a instanceof BigInt)
  ) {
    return Object.is(a.valueOf(), (b as typeof a).valueOf());
  }
  if (a instanceof ArrayBuffer || a instanceof DataView) {
    return sameBytes(bytesOf(a), bytesOf(b as typeof a));
  }
  if (typeof SharedArrayBuffer !== "undefined" && a instanceof SharedArrayBuffer) {
    return sameBytes(bytesOf(a), bytesOf(b as SharedArrayBuffer));
  }
  if (isTypedArray(a)) {
    const bb = b as typeof a;
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], bb[i])) return false;
    return true;
  }
  if (a instanceof Error) {
    const eb = b as Error;
    if (a.name !== eb.name || a.message !== eb.message) return false;
    // Fall through to compare own enumerable fields too (e.g. a `code`).
  }
  if (a instanceof Map) {
    const mb = b as Map<unknown, unknown>;
    if (a.size !== mb.size) return false;
    const unmatched = [...mb.entries()];
    outer: for (const [ka, va] of a) {
      // Fast path: the same key by identity, not yet matched.
      const same = unmatched.findIndex(([kb]) => Object.is(kb, ka));
      if (same >= 0 && deepEqual(va, unmatched[same][1], seen)) {
        unmatched.splice(same, 1);
        continue;
      }
      for (let i = 0; i < unmatched.length; i++) {
        const [kb, vb] = unmatched[i];
        if (deepEqual(ka, kb, seen) && deepEqual(va, vb, seen)) {
          unmatched.splice(i, 1);
          continue outer;
        }
      }
      return false;
    }
    return true;
  }
  if (a instanceof Set) {
    const sb = b as Set<unknown>;
    if (a.size !== sb.size) return false;
    const unmatched = [...sb];
    outer: for (const va of a) {
      const same = unmatched.findIndex((vb) => Object.is(vb, va));
      if (same >= 0) {
        unmatched.splice(same, 1);
        continue;
      }
      for (let i = 0; i < unmatched.length; i++) {
        if (deepEqual(va, unmatched[i], seen)) {
          unmatched.splice(i, 1);
          continue outer;
        }
      }
      return false;
    }
    return true;
  }
  if (Array.isArray(a)) {
    const ab = b as unknown[];
    if (a.length !== ab.length) return false;
    for (let i = 0; i < a.length; i++) {
      // Holes and undefined are treated alike.
      if (!deepEqual(a[i], ab[i], seen)) return false;
    }
    // Extra non-index properties (rare) are compared below by the key walk.
  }
  const isArray = Array.isArray(a);
  const keysA = isArray ? ownKeys(a).filter((k) => !isIndex(k)) : ownKeys(a);
  const keysB = isArray ? ownKeys(b).filter((k) => !isIndex(k)) : ownKeys(b);
  if (keysA.length !== keysB.length) return false;
  const rb = b as Record<PropertyKey, unknown>;
  const ra = a as Record<PropertyKey, unknown>;
  for (const k of keysA) {
    if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
    if (!deepEqual(ra[k], rb[k], seen)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** A stable, multi-line rendering of a value for failure messages. */
export function format(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  return Deno.inspect(v, {
    depth: Infinity,
    sorted: true,
    trailingComma: true,
    compact: false,
    iterableLimit: Infinity,
    strAbbreviateSize: Infinity,
    breakLength: Infinity,
    colors: false,
  });
}

/** A minimal line diff (longest common subsequence), "-" for actual and "+" for expected. */
function lineDiff(actual: string, expected: string): string {
  const a = actual.split("\n");
  const b = expected.split("\n");
  // Guard the O(n*m) table: for huge values just show both sides.
  if (a.length * b.length > 4_000_000) {
    return [...a.map((l) => `-   ${l}`), ...b.map((l) => `+   ${l}`)].join("\n");
  }
  const lcs: number[][] = Array.from(
    { length: a.length + 1 },
    () => new Array(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(`    ${a[i]}`);
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push(`-   ${a[i++]}`);
    } else {
      out.push(`+   ${b[j++]}`);
    }
  }
  while (i < a.length) out.push(`-   ${a[i++]}`);
  while (j < b.length) out.push(`+   ${b[j++]}`);
  return out.join("\n");
}

function prefix(msg?: string): string {
  return msg ? `${msg}: ` : "";
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `non-error value ${format(e)}`;
}

// ---------------------------------------------------------------------------------------------
// Assertions

/** Fails unconditionally. */
export function fail(msg?: string): never {
  throw new AssertionError(`Failed assertion${msg ? `: ${msg}` : "."}`);
}

/** Asserts that `expr` is truthy (and narrows its type). */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg || `Expected a truthy value, got ${format(expr)}.`);
}

/** Asserts that `expr` is falsy. */
export function assertFalse(expr: unknown, msg = ""): void {
  if (expr) throw new AssertionError(msg || `Expected a falsy value, got ${format(expr)}.`);
}

/** Asserts deep equality (see {@link equal}); the message shows a diff of actual vs expected. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) return;
  const fa = format(actual);
  const fe = format(expected);
  const body = fa === fe
    ? `Both render as:\n${fa}\n(they differ in something inspect does not show, e.g. -0, a prototype or a key order of a Map)`
    : `    [Diff] Actual / Expected\n\n${lineDiff(fa, fe)}`;
  throw new AssertionError(`${prefix(msg)}Values are not equal.\n\n${body}\n`);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) return;
  throw new AssertionError(
    `${prefix(msg)}Expected actual to differ from expected, but both are:\n${format(actual)}`,
  );
}

/** Asserts identity (`Object.is`), for when deep equality is too lenient. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (Object.is(actual, expected)) return;
  const fa = format(actual);
  const fe = format(expected);
  const body = fa === fe
    ? `They render the same but are not the same reference:\n${fa}`
    : `    [Diff] Actual / Expected\n\n${lineDiff(fa, fe)}`;
  throw new AssertionError(`${prefix(msg)}Values are not strictly equal.\n\n${body}\n`);
}

/** Asserts that `actual` is neither null nor undefined (and narrows its type). */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(`${prefix(msg)}Expected a value, got ${String(actual)}.`);
  }
}

/** Asserts `actual instanceof Class` (and narrows its type). */
export function assertInstanceOf<E>(
  actual: unknown,
  // deno-lint-ignore no-explicit-any
  Class: abstract new (...args: any[]) => E,
  msg?: string,
): asserts actual is E {
  if (actual instanceof Class) return;
  const got = actual === null || actual === undefined
    ? String(actual)
    : (actual as object).constructor?.name ?? typeof actual;
  throw new AssertionError(`${prefix(msg)}Expected an instance of ${Class.name}, got ${got}.`);
}

/** Asserts that `actual` matches `re`. */
export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  re.lastIndex = 0;
  if (re.test(actual)) return;
  throw new AssertionError(`${prefix(msg)}Expected ${format(actual)} to match ${String(re)}.`);
}

/** Asserts that `actual` does not match `re`. */
export function assertNotMatch(actual: string, re: RegExp, msg?: string): void {
  re.lastIndex = 0;
  if (!re.test(actual)) return;
  throw new AssertionError(`${prefix(msg)}Expected ${format(actual)} not to match ${String(re)}.`);
}

/** Asserts that `actual` contains the substring `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (typeof actual === "string" && actual.includes(expected)) return;
  throw new AssertionError(
    `${prefix(msg)}Expected ${format(actual)} to include ${format(expected)}.`,
  );
}

/** Asserts that every item of `expected` is deep-equal to some item of `actual`. */
export function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  msg?: string,
): void {
  const items = Array.from(actual);
  const missing = Array.from(expected).filter((e) => !items.some((a) => equal(a, e)));
  if (missing.length === 0) return;
  throw new AssertionError(
    `${prefix(msg)}Expected array to include ${format(missing)}.\nActual: ${format(items)}`,
  );
}

function checkError<E extends Error>(
  error: unknown,
  kind: "throw" | "reject",
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): void {
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      `${prefix(msg)}Expected the function to ${kind} ${ErrorClass.name}, but it ${
        kind === "throw" ? "threw" : "rejected with"
      } ${describeError(error)}.`,
    );
  }
  if (msgIncludes !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    if (!message.includes(msgIncludes)) {
      throw new AssertionError(
        `${prefix(msg)}Expected the error message to include ${format(msgIncludes)}, but it is ${
          format(message)
        }.`,
      );
    }
  }
}

/**
 * Asserts that `fn` throws synchronously, optionally an instance of `ErrorClass` whose message
 * includes `msgIncludes`. Returns the thrown value.
 */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  classOrMsg?: ErrorClass<E> | string,
  msgIncludes?: string,
  msg?: string,
): E | unknown {
  const ErrorClass = typeof classOrMsg === "function" ? classOrMsg : undefined;
  if (typeof classOrMsg === "string") msg = classOrMsg;
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    checkError(error, "throw", ErrorClass, msgIncludes, msg);
    return error;
  }
  const note = result instanceof Promise ? " (it returned a promise: use assertRejects)" : "";
  throw new AssertionError(`${prefix(msg)}Expected the function to throw${note}.`);
}

/**
 * Asserts that the promise returned by `fn` rejects, optionally with an instance of
 * `ErrorClass` whose message includes `msgIncludes`. Resolves to the rejection value. A
 * function that throws synchronously instead of returning a rejecting promise fails.
 */
export function assertRejects(fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  classOrMsg?: ErrorClass<E> | string,
  msgIncludes?: string,
  msg?: string,
): Promise<E | unknown> {
  const ErrorClass = typeof classOrMsg === "function" ? classOrMsg : undefined;
  if (typeof classOrMsg === "string") msg = classOrMsg;
  let promise: PromiseLike<unknown>;
  try {
    promise = fn();
  } catch (error) {
    throw new AssertionError(
      `${prefix(msg)}Expected the function to return a rejecting promise, but it threw ${
        describeError(error)
      } synchronously.`,
    );
  }
  if (!promise || typeof (promise as PromiseLike<unknown>).then !== "function") {
    throw new AssertionError(`${prefix(msg)}Expected the function to return a promise.`);
  }
  try {
    await promise;
  } catch (error) {
    checkError(error, "reject", ErrorClass, msgIncludes, msg);
    return error;
  }
  throw new AssertionError(`${prefix(msg)}Expected the promise to reject, but it resolved.`);
}
