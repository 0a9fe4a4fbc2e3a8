// Headless Chromium (Debian's package) driven by playwright-core, for the console tests: one
// browser per test file, every request recorded so a test can prove nothing left loopback.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '@hardening/test-support';
import { testAdminToken, type TestApp } from './http-app.js';

/** Where screenshots go: reports/console/ at the repository root (not committed). */
export const screenshotDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'reports', 'console');

/** A browser on the console of one app. */
export interface ConsoleBrowser {
  readonly browser: Browser;
  /** Every URL any page of this browser requested (documents, scripts, fetches, redirects). */
  readonly requested: string[];
  /** A fresh context (cookie jar), recording its requests. */
  newContext(options?: Parameters<Browser['newContext']>[0]): Promise<BrowserContext>;
  /** A new page in a new context, signed in with the admin token, on /admin. */
  signedIn(options?: Parameters<Browser['newContext']>[0]): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Launches Chromium for `app`.
 *
 * @example
 * ```ts
 * const browser = await openConsoleBrowser(app);
 * const page = await browser.signedIn();
 * ```
 */
export async function openConsoleBrowser(app: TestApp): Promise<ConsoleBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
  const requested: string[] = [];
  const newContext = async (options?: Parameters<Browser['newContext']>[0]) => {
    const context = await browser.newContext(options);
    context.on('request', (request) => requested.push(request.url()));
    return context;
  };
  return {
    browser,
    requested,
    newContext,
    async signedIn(options) {
      const context = await newContext(options);
      const page = await context.newPage();
      await page.goto(`${app.url}/admin`);
      await page.getByLabel('Admin token').fill(testAdminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${app.url}/admin`);
      return page;
    },
    close: () => browser.close(),
  };
}

/**
 * Saves a full-page screenshot as reports/console/<name>.png.
 *
 * @example
 * ```ts
 * await screenshot(page, 'console-desktop');
 * ```
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
