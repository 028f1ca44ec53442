/**
 * Property tests over hostile input (tests/_properties.ts), with a fixed seed and a bounded number
 * of runs so the suite is repeatable; bench/fuzz.ts runs the same properties for longer.
 */
import fc from "fast-check";
import {
  arbitraryInteraction,
  checkInteraction,
  checkOperator,
  type Finding,
  mutatedInteraction,
  operatorRequest,
  type PropertyBot,
  propertyBot,
} from "../_properties.ts";

const SEED = 20261206;

async function holds<T>(
  arbitrary: (bot: PropertyBot) => fc.Arbitrary<T>,
  check: (bot: PropertyBot, value: T) => Promise<Finding>,
  numRuns: number,
) {
  const bot = await propertyBot();
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary(bot), async (value) => {
        const finding = await check(bot, value);
        if (finding) throw new Error(finding);
      }),
      { seed: SEED, numRuns },
    );
  } finally {
    await bot.close();
  }
}

Deno.test("properties: signed arbitrary JSON is refused cleanly", () =>
  holds(() => arbitraryInteraction, checkInteraction, 300));

Deno.test("properties: signed mutations of valid interactions never fail the bot", () =>
  holds(mutatedInteraction, checkInteraction, 600));

Deno.test("properties: operator routes with arbitrary bodies and query strings", () =>
  holds(() => operatorRequest, checkOperator, 400));
