// The operator console with alerts switched off (ALERTS_DISABLED=true, Slack configured):
// the banner cannot be missed, and health says why. Its own app: the switch is read at start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireChromium, startFakeSlack, type FakeSlack } from '@hardening/test-support';
import { openConsoleBrowser, type ConsoleBrowser } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/http-app.js';

const chromiumOk = await requireChromium();

describe.skipIf(!chromiumOk)('operator console with alerts disabled (headless Chromium)', () => {
  let slack: FakeSlack;
  let app: TestApp;
  let browser: ConsoleBrowser;
  beforeAll(async () => {
    slack = await startFakeSlack();
    app = await startTestApp({ ALERTS_DISABLED: 'true', SLACK_BOT_TOKEN: 'xoxb-console-test', SLACK_ALERTS_CHANNEL: '#alerts', SLACK_API_URL: slack.apiUrl });
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
});
