// The operator console with alerts switched off (ALERTS_DISABLED=true, Slack configured):
// the banner cannot be missed, and health says why; and with a small admin rate limit, which
// the console shares with the admin API. Its own app: both are read at start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireChromium, startFakeSlack, type FakeSlack } from '@hardening/test-support';
import { openConsoleBrowser, type ConsoleBrowser } from '../support/browser.js';
import { startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';

const adminLimit = 40;

const chromiumOk = await requireChromium();

describe.skipIf(!chromiumOk)('operator console with alerts disabled (headless Chromium)', () => {
  let slack: FakeSlack;
  let app: TestApp;
  let browser: ConsoleBrowser;
  beforeAll(async () => {
    slack = await startFakeSlack();
    app = await startTestApp({
      RATE_LIMIT_ADMIN_MAX: String(adminLimit),
      ALERTS_DISABLED: 'true',
      SLACK_BOT_TOKEN: 'xoxb-console-test',
      SLACK_ALERT_CHANNEL: '#alerts',
      SLACK_API_URL: slack.apiUrl,
    });
    browser = await openConsoleBrowser(app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await slack?.close();
  });

  it('shows the alerts-off banner first, as an alert, naming the switch; health warns about it', async () => {
    const page = await browser.signedIn({ viewport: { width: 375, height: 812 } });
    const banner = page.locator('#alerts-disabled');
    await expect(banner.getAttribute('role')).resolves.toBe('alert');
    await expect(banner.textContent()).resolves.toMatch(/ALERTS ARE OFF[\s\S]*ALERTS_DISABLED=true/);
    // First thing on the page, inside the first screen of a phone.
    const box = await banner.boundingBox();
    expect(box !== null && box.y + box.height <= 812).toBe(true);
    await expect(page.locator('#health-status').textContent()).resolves.not.toBe('pass');
    await expect(page.locator('#section-status').textContent()).resolves.toContain('alerts:status');
    expect(browser.requested.filter((url) => !url.startsWith(`${app.url}/`))).toEqual([]);
  });

  it('counts against the admin rate limit: guessing tokens at sign-in ends in 429, and so does the admin API without a token', async () => {
    const signIn = () => app.request('/admin/sign-in', { method: 'POST', body: new URLSearchParams({ token: 'guess-0123456789abcdef012345' }) });
    const statuses: number[] = [];
    for (let i = 0; i <= adminLimit; i++) statuses.push((await signIn()).status);
    expect(statuses).toContain(401);
    expect(statuses.at(-1)).toBe(429);
    // Even the right token is refused now, from this IP, until the window ends.
    expect((await app.request('/admin/sign-in', { method: 'POST', body: new URLSearchParams({ token: testAdminToken }) })).status).toBe(429);
    expect((await app.request('/api/admin/stuck-clients')).status).toBe(429);
  });
});
