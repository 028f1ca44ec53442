/**
 * Tests of tests/_assert.ts itself (every test file relies on it, so it must fail when it should
 * and pass when it should). Kept here because tests/ops/ is where this work may add files.
 */
import {
  assert,
  assertArrayIncludes,
  assertEquals,
  AssertionError,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
  equal,
  fail,
} from "../_assert.ts";

/** Runs `fn` and returns the AssertionError it must throw. */
function failure(fn: () => unknown): AssertionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AssertionError) return e;
    throw new Error(`expected an AssertionError, got ${e}`);
  }
  throw new Error("expected the assertion to fail, but it passed");
}

async function asyncFailure(fn: () => Promise<unknown>): Promise<AssertionError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof AssertionError) return e;
    throw new Error(`expected an AssertionError, got ${e}`);
  }
  throw new Error("expected the assertion to fail, but it passed");
}

Deno.test("_assert: equal on primitives", () => {
  assert(equal(1, 1));
  assert(equal("a", "a"));
  assert(equal(NaN, NaN));
  assert(equal(null, null));
  assert(equal(undefined, undefined));
  assert(equal(5n, 5n));
  assert(!equal(0, -0));
  assert(!equal(1, "1"));
  assert(!equal(null, undefined));
  assert(!equal(null, {}));
  assert(!equal(5n, 5));
});

Deno.test("_assert: equal on objects and arrays", () => {
  assert(equal({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert(!equal({ a: 1 }, { a: 1, b: 2 }));
  assert(!equal({ a: undefined }, {}), "a key holding undefined differs from a missing key");
  assert(!equal([1, 2], [2, 1]));
  assert(!equal([1], { 0: 1 }));
  assert(!equal([1, 2], [1, 2, 3]));
  assert(equal([], []));
  class A {
    x = 1;
  }
  assert(!equal(new A(), { x: 1 }), "different classes");
  assert(equal(new A(), new A()));
  assert(equal(Object.create(null), Object.create(null)));
});

Deno.test("_assert: equal on built-ins", () => {
  assert(equal(new Date(5), new Date(5)));
  assert(!equal(new Date(5), new Date(6)));
  assert(equal(/a/g, /a/g));
  assert(!equal(/a/g, /a/i));
  assert(equal(new URL("https://x.test/a"), new URL("https://x.test/a")));
  assert(!equal(new URL("https://x.test/a"), new URL("https://x.test/b")));
  assert(equal(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert(!equal(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert(!equal(new Uint8Array([1, 2]), new Uint16Array([1, 2])));
  assert(!equal(new Uint8Array([1, 2]), [1, 2]));
  assert(equal(new Uint8Array([1, 2]).buffer, new Uint8Array([1, 2]).buffer));
  assert(equal(new Map([["a", { b: 1 }]]), new Map([["a", { b: 1 }]])));
  assert(!equal(new Map([["a", 1]]), new Map([["a", 2]])));
  assert(equal(new Map([[{ k: 1 }, "v"]]), new Map([[{ k: 1 }, "v"]])), "deep map keys");
  assert(equal(new Set([1, { a: 2 }]), new Set([{ a: 2 }, 1])));
  assert(!equal(new Set([1, 2]), new Set([1, 3])));
  assert(!equal(new Set([{ a: 1 }, { a: 1 }]), new Set([{ a: 1 }, { a: 2 }])));
  assert(equal(new Error("x"), new Error("x")));
  assert(!equal(new Error("x"), new Error("y")));
  assert(!equal(new Error("x"), new TypeError("x")));
  assert(equal(new Deno.KvU64(3n), new Deno.KvU64(3n)));
});

Deno.test("_assert: equal handles cycles", () => {
  // deno-lint-ignore no-explicit-any
  const a: any = { n: 1 };
  a.self = a;
  // deno-lint-ignore no-explicit-any
  const b: any = { n: 1 };
  b.self = b;
  assert(equal(a, b));
  // deno-lint-ignore no-explicit-any
  const c: any = { n: 2 };
  c.self = c;
  assert(!equal(a, c));
});

Deno.test("_assert: assertEquals shows a diff of actual and expected", () => {
  assertEquals({ a: 1, list: [1, 2] }, { a: 1, list: [1, 2] });
  const err = failure(() => assertEquals({ a: 1, b: "two" }, { a: 1, b: "three" }, "context"));
  assert(err.message.startsWith("context: Values are not equal."), err.message);
  assertMatch(err.message, /^-\s+b: "two",$/m);
  assertMatch(err.message, /^\+\s+b: "three",$/m);
  assertMatch(err.message, /^ {4}\s+a: 1,$/m);
  const zero = failure(() => assertEquals(0, -0));
  assert(zero.message.includes("-0"), zero.message);
});

Deno.test("_assert: assertNotEquals", () => {
  assertNotEquals({ a: 1 }, { a: 2 });
  failure(() => assertNotEquals([1], [1]));
});

Deno.test("_assert: assert and fail", () => {
  assert(true);
  assert(1);
  assertEquals(failure(() => assert(0, "must hold")).message, "must hold");
  assert(failure(() => assert("")).message.includes("truthy"));
  assert(failure(() => fail("boom")).message.includes("boom"));
});

Deno.test("_assert: assertThrows checks class and message, and returns the error", () => {
  const thrown = assertThrows(
    () => {
      throw new RangeError("out of range");
    },
    RangeError,
    "range",
  );
  assertEquals(thrown.message, "out of range");
  assertThrows(() => {
    throw new Error("any");
  });
  assert(failure(() => assertThrows(() => 1)).message.includes("to throw"));
  assert(
    failure(() =>
      assertThrows(() => {
        throw new Error("x");
      }, TypeError)
    ).message.includes("TypeError"),
  );
  assert(
    failure(() =>
      assertThrows(
        () => {
          throw new Error("abc");
        },
        Error,
        "xyz",
      )
    ).message.includes('"xyz"'),
  );
  assert(
    failure(() => assertThrows(() => Promise.reject(new Error("x")).catch(() => {})))
      .message.includes("assertRejects"),
  );
});

Deno.test("_assert: assertRejects checks class and message, and returns the error", async () => {
  const err = await assertRejects(
    () => Promise.reject(new TypeError("bad input")),
    TypeError,
    "bad",
  );
  assertEquals(err.message, "bad input");
  await assertRejects(async () => {
    await Promise.resolve();
    throw new Error("later");
  });
  assert(
    (await asyncFailure(() => assertRejects(() => Promise.resolve(1)))).message.includes(
      "resolved",
    ),
  );
  assert(
    (await asyncFailure(() => assertRejects(() => Promise.reject(new Error("x")), TypeError)))
      .message.includes("TypeError"),
  );
  assert(
    (await asyncFailure(() => assertRejects(() => Promise.reject(new Error("abc")), Error, "zz")))
      .message.includes('"zz"'),
  );
  const sync = await asyncFailure(() =>
    assertRejects((): Promise<void> => {
      throw new Error("sync");
    })
  );
  assert(sync.message.includes("synchronously"), sync.message);
});

Deno.test("_assert: assertMatch, assertStringIncludes, assertArrayIncludes", () => {
  assertMatch("abc123", /\d+$/);
  assertMatch("abc", /b/g);
  assertMatch("abc", /b/g); // lastIndex of a global regexp does not leak between calls
  failure(() => assertMatch("abc", /\d/));
  assertStringIncludes("hello world", "o w");
  failure(() => assertStringIncludes("hello", "x"));
  assertArrayIncludes([1, { a: 2 }, "x"], [{ a: 2 }, 1]);
  const err = failure(() => assertArrayIncludes([1, 2], [3]));
  assert(err.message.includes("3"), err.message);
});
