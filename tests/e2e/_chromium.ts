/** Headless Chromium for the browser tests: Debian's package, driven by playwright-core. */
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Whether the browser is installed (`apt-get install chromium`); the tests skip without it. */
export function hasChromium(test: string): boolean {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return true;
  } catch {
    // missing
  }
  console.error(`${test} skipped: ${CHROMIUM} missing (apt-get install chromium)`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}
