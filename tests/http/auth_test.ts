import { assertEquals, assertStrictEquals } from "../_assert.ts";
import { requireBearer, timingSafeEqual } from "../../lib/http/auth.ts";

Deno.test("timingSafeEqual: true only for the same string", () => {
  assertEquals(timingSafeEqual("", ""), true);
  assertEquals(timingSafeEqual("s3cret-token", "s3cret-token"), true);
  assertEquals(timingSafeEqual("été ✓", "été ✓"), true);
  // One character apart, at the start, the middle and the end.
  assertEquals(timingSafeEqual("s3cret-token", "X3cret-token"), false);
  assertEquals(timingSafeEqual("s3cret-token", "s3cretXtoken"), false);
  assertEquals(timingSafeEqual("s3cret-token", "s3cret-tokeX"), false);
  assertEquals(timingSafeEqual("abc", "ABC"), false);
});

Deno.test("timingSafeEqual: a prefix, an extension or a repetition is not equal", () => {
  // The comparison wraps around the shorter input, so these would match byte by byte: the
  // length difference alone must make them unequal.
  assertEquals(timingSafeEqual("abc", "abcabc"), false);
  assertEquals(timingSafeEqual("abcabc", "abc"), false);
  assertEquals(timingSafeEqual("token", "token\0"), false);
  assertEquals(timingSafeEqual("a", "aa"), false);
  assertEquals(timingSafeEqual("", "a"), false);
  assertEquals(timingSafeEqual("a", ""), false);
  assertEquals(timingSafeEqual("", "\0"), false);
  // Compared as UTF-8 bytes: "é" (2 bytes) is not "e" followed by anything shorter.
  assertEquals(timingSafeEqual("é", "e"), false);
  assertEquals(timingSafeEqual("é", "\u00c3\u00a9"), false);
});

const TOKEN = "op-token-0123456789abcdef";

function req(authorization?: string): Request {
  return new Request("http://bot.test/commands/sync", {
    method: "POST",
    headers: authorization === undefined ? {} : { authorization },
  });
}

/** The status and JSON body of a refusal. */
async function refusal(res: Response | null) {
  if (res === null) return null;
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: await res.json(),
  };
}

const denied = (error: string) => ({
  status: 401,
  type: "application/json; charset=utf-8",
  body: { error },
});

Deno.test("requireBearer: the right token passes, whatever the scheme's case and spacing", () => {
  assertStrictEquals(requireBearer(req(`Bearer ${TOKEN}`), TOKEN), null);
  assertStrictEquals(requireBearer(req(`bearer ${TOKEN}`), TOKEN), null);
  assertStrictEquals(requireBearer(req(`BEARER   ${TOKEN}`), TOKEN), null);
  assertStrictEquals(requireBearer(req(`  Bearer ${TOKEN}  `), TOKEN), null);
});

Deno.test("requireBearer: a missing header or another scheme is 401 'missing bearer token'", async () => {
  for (
    const header of [
      undefined,
      "",
      TOKEN,
      `Basic ${TOKEN}`,
      `Token ${TOKEN}`,
      `Bearer${TOKEN}`,
      "Bearer",
      "Bearer   ",
    ]
  ) {
    assertEquals(
      await refusal(requireBearer(req(header), TOKEN)),
      denied("missing bearer token"),
      String(header),
    );
  }
});

Deno.test("requireBearer: a wrong token is 401 'invalid bearer token'", async () => {
  for (
    const token of [
      "wrong-token",
      TOKEN.slice(0, -1),
      TOKEN + "0",
      TOKEN.toUpperCase(),
      `${TOKEN} ${TOKEN}`,
    ]
  ) {
    assertEquals(
      await refusal(requireBearer(req(`Bearer ${token}`), TOKEN)),
      denied("invalid bearer token"),
      token,
    );
  }
});

Deno.test("requireBearer: without a configured token every request is refused (fail closed)", async () => {
  const disabled = denied("this route is disabled: SYNC_AUTH_TOKEN is not set on the server");
  for (const expected of [undefined, ""]) {
    // Not even an empty bearer or a header that would match the empty string gets through.
    for (const header of [undefined, "Bearer ", "Bearer x", `Bearer ${TOKEN}`]) {
      assertEquals(
        await refusal(requireBearer(req(header), expected)),
        disabled,
        `${JSON.stringify(expected)} / ${header}`,
      );
    }
  }
});
