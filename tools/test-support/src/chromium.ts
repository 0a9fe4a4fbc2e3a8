import { accessSync, constants } from 'node:fs';

/** Where Debian's `chromium` package puts the browser; CHROMIUM_PATH overrides it. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for headless Chromium in tests: no sandbox (root in CI), and none of the browser's
 * own traffic (updates, sync, safe browsing) so that every request is the page's.
 */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-extensions',
];

/**
 * Resolves true when Chromium is installed at {@link chromiumPath}. Outside CI a missing
 * browser resolves false after a loud notice (use with `describe.skipIf`); with `CI=true`
 * it throws, as {@link requireRedis} does for Redis.
 *
 * @example
 * ```ts
 * const browserOk = await requireChromium();
 * describe.skipIf(!browserOk)('console in a browser', () => { ... });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async like requirePostgres/requireRedis (which probe): the CI=true throw is a rejection
export async function requireChromium(): Promise<boolean> {
  try {
    accessSync(chromiumPath, constants.X_OK);
    return true;
  } catch {
    // fall through
  }
  const install = 'apt-get install -y chromium';
  if (process.env.CI === 'true') throw new Error(`Chromium is not installed at ${chromiumPath} and CI=true: install it with \`${install}\``);
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n!! SKIPPED: Chromium is not installed at ${chromiumPath}.\n!! Browser tests did not run. Install it with:\n!!   ${install}\n${line}\n`,
  );
  return false;
}
