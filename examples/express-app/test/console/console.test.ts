// The operator console in headless Chromium against the real app (embedded database, job
// runner on): sign-in, what needs a person and its actions, hostile names, CSRF and session
// refusals, phone width, keyboard focus, live updates, and no request beyond loopback.
// One app and one browser for the file.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Page } from 'playwright-core';
import { eventually, requireChromium, startFakeSlack, type FakeSlack } from '@hardening/test-support';
import type { OnboardingState } from '../../src/db/generated/client.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { startJobRunner } from '../../src/jobs/job-runner.js';
import { openConsoleBrowser, screenshot, type ConsoleBrowser } from '../support/browser.js';
import { startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';

const hour = 3_600_000;
const systemNumber = '+15550000000';
const hostileName = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const chromiumOk = await requireChromium();

let app: TestApp;
let slack: FakeSlack;
let browser: ConsoleBrowser;
let page: Page;
let phoneSeq = 0;

async function client(businessName: string, state: OnboardingState, enteredAgoMs: number) {
  phoneSeq++;
  return app.ctx.db.prisma.client.create({
    data: { phone: `+1555320${String(phoneSeq).padStart(4, '0')}`, businessName, onboardingState: state, stateEnteredAt: new Date(Date.now() - enteredAgoMs) },
  });
}

async function deadLetter(sid: string) {
  const inbox = await app.ctx.db.prisma.inboundEvent.create({
    data: { messageSid: sid, status: 'dead_letter', attempts: 5, payload: { MessageSid: sid, From: '+15553290001', To: systemNumber, Body: 'hello' } },
  });
  return app.ctx.db.prisma.webhookDelivery.create({
    data: {
      provider: 'twilio',
      eventId: sid,
      kind: 'process_inbound',
      status: 'dead_letter',
      attempts: 5,
      lastError: 'database timeout',
      payload: { inboxId: inbox.id },
    },
  });
}

/** The console's cookies of `page`'s context, by name. */
async function cookiesOf(p: Page) {
  return Object.fromEntries((await p.context().cookies()).map((c) => [c.name, c]));
}

describe.skipIf(!chromiumOk)('operator console (headless Chromium)', () => {
  let payingClient: { id: string };
  let hostileClient: { id: string };
  let delivery: { id: string };

  beforeAll(async () => {
    // Alerts on (Slack is a remote sink), so the page shows no "alerts are off" banner.
    slack = await startFakeSlack();
    app = await startTestApp({ SLACK_BOT_TOKEN: 'xoxb-console-test', SLACK_ALERT_CHANNEL: '#alerts', SLACK_API_URL: slack.apiUrl });
    startJobRunner(app.ctx);
    await addNumbers(app.ctx.db.prisma, [systemNumber], 'SYSTEM');
    payingClient = await client('Smith Plumbing', 'S5_CONFIRM_LIVE', 3 * hour);
    hostileClient = await client(hostileName, 'S2_BUSINESS_NAME', 30 * hour);
    delivery = await deadLetter(`SM${'c'.repeat(32)}`);
    browser = await openConsoleBrowser(app);
    page = await browser.signedIn({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await slack?.close();
  });

  it('signs in with the admin token into an HttpOnly, SameSite=Strict session cookie (not Secure on loopback), and refuses a wrong token', async () => {
    const cookies = await cookiesOf(page);
    expect(cookies.console_session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/admin' });
    expect(cookies.console_session!.value).not.toContain(testAdminToken);
    await expect(page.getByRole('heading', { name: 'Needs a person' }).isVisible()).resolves.toBe(true);
    // Alerts reach Slack here: no banner (alerts-disabled.test.ts shows it).
    await expect(page.locator('#alerts-disabled').count()).resolves.toBe(0);

    const other = await (await browser.newContext()).newPage();
    const before = await other.goto(`${app.url}/admin`);
    expect(before?.url()).toBe(`${app.url}/admin/sign-in`);
    await other.getByLabel('Admin token').fill('not-the-token-0123456789abcdef');
    const [answer] = await Promise.all([other.waitForResponse((r) => r.request().method() === 'POST'), other.getByRole('button', { name: 'Sign in' }).click()]);
    expect(answer.status()).toBe(401);
    await expect(other.getByRole('alert').textContent()).resolves.toContain('not the admin token');
    expect((await other.context().cookies()).map((c) => c.name)).not.toContain('console_session');
    await other.context().close();
  });

  it('refuses to sign in over plain HTTP on a host other than loopback (a Secure cookie would be dropped)', async () => {
    const { port } = new URL(app.url);
    const answer = await new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/admin/sign-in',
          method: 'POST',
          headers: { host: 'ops.example.com', 'content-type': 'application/x-www-form-urlencoded' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] ?? [], body }));
        },
      );
      req.on('error', reject);
      req.end(new URLSearchParams({ token: testAdminToken }).toString());
    });
    expect([answer.status, answer.cookies]).toEqual([400, []]);
    expect(answer.body).toContain('needs HTTPS');
  });

  it('shows the seeded stuck clients; a hostile business name renders as text and runs nothing', async () => {
    const cards = page.locator('#stuck-clients li');
    await expect(cards.count()).resolves.toBe(2);
    const hostile = page.locator(`[data-client-id="${hostileClient.id}"] .label`);
    await expect(hostile.textContent()).resolves.toBe(hostileName);
    await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
    await expect(page.locator('#stuck-clients img').count()).resolves.toBe(0);
    await expect(page.locator(`[data-client-id="${payingClient.id}"]`).textContent()).resolves.toMatch(/Smith Plumbing[\s\S]*S5_CONFIRM_LIVE/);
  });

  it('resolves a stuck client after a confirmation, and it is gone', async () => {
    await page
      .locator(`[data-client-id="${payingClient.id}"]`)
      .getByRole('button', { name: /Activate payment/ })
      .click();
    await page.getByRole('button', { name: 'Yes, do it' }).waitFor();
    await expect(page.textContent('main')).resolves.toContain('Smith Plumbing is in S5_CONFIRM_LIVE');
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#flash').textContent()).resolves.toContain('now S9_TEST_CALL');
    await expect(page.locator(`[data-client-id="${payingClient.id}"]`).count()).resolves.toBe(0);
    expect((await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: payingClient.id } })).paymentActive).toBe(true);
  });

  it('re-drives a dead letter: queued again, processed, and off the list', async () => {
    const row = page.locator(`[data-delivery-id="${delivery.id}"]`);
    await expect(row.textContent()).resolves.toContain('database timeout');
    await row.getByRole('button', { name: 'Re-drive' }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#flash').textContent()).resolves.toContain('re-driven');
    await expect(page.locator(`[data-delivery-id="${delivery.id}"]`).count()).resolves.toBe(0);
    await eventually(async () => (await app.ctx.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status === 'completed');
  });

  it('resumes a halted sender after a confirmation, and clears a recipient suppression', async () => {
    const sender = '+15553299001';
    await app.ctx.db.prisma.smsSenderHalt.create({
      data: { fromPhone: sender, errorCode: 30034, reason: 'unregistered A2P campaign', nextProbeAt: new Date(Date.now() + hour) },
    });
    const suppression = await app.ctx.db.prisma.smsSuppression.create({
      data: { fromPhone: sender, toPhone: '+15553299002', errorCode: 21610, reason: 'recipient unsubscribed' },
    });
    await page.goto(`${app.url}/admin`);
    await expect(page.locator('#halted-count').textContent()).resolves.toContain('1 sender(s) halted');
    await expect(page.locator('#suppressions').textContent()).resolves.not.toContain('+15553299002'); // masked

    await page.locator(`[data-sender="${sender}"]`).getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#flash').textContent()).resolves.toContain(`${sender} resumed`);
    await expect(page.locator(`[data-sender="${sender}"]`).count()).resolves.toBe(0);
    expect((await app.ctx.db.prisma.smsSenderHalt.findUniqueOrThrow({ where: { fromPhone: sender } })).active).toBe(false);

    await page.locator(`[data-suppression-id="${suppression.id}"]`).getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator(`[data-suppression-id="${suppression.id}"]`).count()).resolves.toBe(0);
    expect(await app.ctx.db.prisma.smsSuppression.count({ where: { id: suppression.id } })).toBe(0);
  });

  it('acknowledges an alert by its id (the form takes the SMS ACK code too): listed as acknowledged', async () => {
    const result = await app.ctx.alerts.sendCriticalAlert({
      type: 'ACK_PROBE',
      severity: 'HIGH',
      resourceId: 'console',
      title: 'Probe',
      message: 'for the console',
    });
    expect(result.status).toBe('delivered');
    await page.goto(`${app.url}/admin`);
    await page.getByText('Acknowledge by ACK code').click();
    await page.getByLabel('ACK code or alert id').fill(result.alertId);
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#flash').textContent()).resolves.toContain('ACK_PROBE acknowledged');
    await expect(page.locator('#acknowledged').textContent()).resolves.toContain('ACK_PROBE');
    expect(app.ctx.alerts.getAlertSystemStatus().acknowledged.map((a) => [a.alertId, a.via])).toContainEqual([result.alertId, 'console']);
  });

  it('lists a page no sink took and an alert nobody acknowledged; acknowledges the page from its row; recent alerts show each sink', async () => {
    const unacked = await app.ctx.alerts.sendCriticalAlert({
      type: 'UNACKED_PROBE',
      severity: 'MEDIUM',
      resourceId: 'console-unacked',
      title: 'Nobody looked',
      message: 'still open',
    });
    expect(unacked.status).toBe('delivered');
    // Slack (the only remote sink) refuses every post until cleared: the page stays pending.
    slack.fail({ status: 200, body: { ok: false, error: 'channel_not_found' }, times: 1000 });
    onTestFinished(() => slack.clearFaults());
    const undelivered = await app.ctx.alerts.sendCriticalAlert({
      type: 'PAGE_PROBE',
      severity: 'HIGH',
      resourceId: 'console-page',
      title: 'Page <i>probe</i>',
      message: 'no sink takes it',
    });
    expect(undelivered.status).toBe('failed');

    await page.goto(`${app.url}/admin`);
    const pending = page.locator(`#open-alerts [data-alert-id="${undelivered.alertId}"]`);
    await expect(pending.textContent()).resolves.toMatch(/PAGE_PROBE: Page <i>probe<\/i>[\s\S]*not delivered[\s\S]*channel_not_found/);
    await expect(page.locator('#open-alerts i').count()).resolves.toBe(0);
    const open = page.locator(`#open-alerts [data-alert-id="${unacked.alertId}"]`);
    await expect(open.textContent()).resolves.toMatch(/UNACKED_PROBE[\s\S]*not acknowledged[\s\S]*delivered .* ago to slack/);

    await pending.getByRole('button', { name: /Acknowledge PAGE_PROBE/ }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#flash').textContent()).resolves.toContain('PAGE_PROBE acknowledged');
    await expect(page.locator(`#open-alerts [data-alert-id="${undelivered.alertId}"]`).count()).resolves.toBe(0);
    await expect(page.locator(`#open-alerts [data-alert-id="${unacked.alertId}"]`).count()).resolves.toBe(1);
    expect(app.ctx.alerts.getAlertSystemStatus().acknowledged.map((a) => [a.alertId, a.via])).toContainEqual([undelivered.alertId, 'console']);

    // Recent alerts, one by one, with the outcome at each sink.
    const recentLost = page.locator(`#recent-alerts > li[data-alert-id="${undelivered.alertId}"]`);
    await expect(recentLost.locator('[data-sink="slack"]').textContent()).resolves.toMatch(/slack: failed[\s\S]*channel_not_found/);
    await expect(recentLost.textContent()).resolves.toContain('PAGE_PROBE');
    await expect(page.locator(`#recent-alerts > li[data-alert-id="${unacked.alertId}"] [data-sink="slack"]`).textContent()).resolves.toContain(
      'slack: delivered',
    );
  });

  it('refuses an action without the session cookie (401) or with a wrong CSRF token (403), changing nothing', async () => {
    const action = `${app.url}/admin/actions/needs-person/resolve`;
    const form = { id: hostileClient.id, resolution: 'acknowledge', confirm: 'yes' };
    const token = await page.locator('input[name="_csrf"]').first().inputValue();

    const anonymous = await fetch(action, { method: 'POST', body: new URLSearchParams({ ...form, _csrf: token }), redirect: 'manual' });
    expect(anonymous.status).toBe(401);
    // A client asking for JSON gets the refusal as problem+json.
    const asJson = await fetch(action, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(form), redirect: 'manual' });
    expect([asJson.status, asJson.headers.get('content-type')]).toEqual([401, expect.stringMatching(/^application\/problem\+json/)]);

    // The page's own cookies, a forged token: refused.
    const jar = await cookiesOf(page);
    const cookie = `console_session=${jar.console_session!.value}; console_csrf=${jar.console_csrf!.value}`;
    const forged = await fetch(action, {
      method: 'POST',
      headers: { cookie },
      body: new URLSearchParams({ ...form, _csrf: `${token.slice(0, -4)}AAAA` }),
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    const missing = await fetch(action, { method: 'POST', headers: { cookie }, body: new URLSearchParams(form), redirect: 'manual' });
    expect(missing.status).toBe(403);
    // A valid token of another session is refused too (tokens are bound to the session).
    const otherPage = await browser.signedIn();
    const otherToken = await otherPage.locator('input[name="_csrf"]').first().inputValue();
    const otherJar = await cookiesOf(otherPage);
    const crossed = await fetch(action, {
      method: 'POST',
      headers: { cookie: `console_session=${jar.console_session!.value}; console_csrf=${otherJar.console_csrf!.value}` },
      body: new URLSearchParams({ ...form, _csrf: otherToken }),
      redirect: 'manual',
    });
    expect(crossed.status).toBe(403);
    await otherPage.context().close();

    const stillStuck = await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: hostileClient.id } });
    expect(stillStuck.stateEnteredAt.getTime()).toBeLessThan(Date.now() - 29 * hour);
    // And the same request with the real token goes through (the refusals were the token's doing).
    const real = await fetch(action, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ ...form, _csrf: token }), redirect: 'manual' });
    expect([real.status, real.headers.get('location')]).toEqual([303, '/admin']);
  });

  it('takes no property every object has for an asset, a section or an action (404, never 500)', async () => {
    // The hostile fuzz found GET /admin/valueOf answered 500: the asset table was read by key.
    const names = ['valueOf', 'constructor', 'toString', 'hasOwnProperty', '__proto__'];
    for (const name of names) {
      const reply = await fetch(`${app.url}/admin/${name}`, { redirect: 'manual' });
      expect([name, reply.status]).toEqual([name, 404]);
    }
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const jar = await cookiesOf(page);
    const cookie = `console_session=${jar.console_session!.value}; console_csrf=${jar.console_csrf!.value}`;
    for (const path of [...names.map((n) => `needs-person/${n}`), ...names.map((n) => `${n}/resolve`)]) {
      const reply = await fetch(`${app.url}/admin/actions/${path}`, {
        method: 'POST',
        headers: { cookie },
        body: new URLSearchParams({ _csrf: token, id: hostileClient.id }),
        redirect: 'manual',
      });
      expect([path, reply.status]).toEqual([path, 404]);
    }
  });

  it('creates and ends an alert silence, and adds an E.164 number to the pool (refusing a malformed one)', async () => {
    await page.goto(`${app.url}/admin`);
    await page.getByText('New silence').click();
    await page.getByLabel('Alert type').fill('TWILIO_FAILURE');
    await page.getByLabel('Reason').fill('Twilio maintenance <b>window</b>');
    await page.getByRole('button', { name: 'Create silence' }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#silences').textContent()).resolves.toContain('Twilio maintenance <b>window</b>');
    await page
      .locator('#silences')
      .getByRole('button', { name: /End silence/ })
      .click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#silences').count()).resolves.toBe(0);
    expect(await app.ctx.silences.list()).toEqual([]);

    const available = Number(await page.locator('#pool-available').textContent());
    await page.getByLabel('Number (E.164)').fill('+15551239876');
    await page.getByRole('button', { name: 'Add number' }).click();
    await page.waitForURL(`${app.url}/admin`);
    await expect(page.locator('#pool-available').textContent()).resolves.toBe(String(available + 1));

    // The browser's own pattern check would stop this one: post it as a script could.
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const answer = await page.request.post(`${app.url}/admin/actions/number-pool/add`, { form: { _csrf: token, number: '555-CALL-NOW' } });
    expect(answer.status()).toBe(400);
    expect(await answer.text()).toContain('E.164');
  });

  it('updates itself without a reload: a client stuck after the page loaded appears', async () => {
    // The page runs on Playwright's clock: the script's 10 s poll is run, not waited for
    // (its fetch and the server are real). A page of its own, so the others keep real time.
    const live = await browser.signedIn({ viewport: { width: 1280, height: 900 } });
    onTestFinished(() => live.context().close());
    await live.clock.install();
    await live.goto(`${app.url}/admin`);
    const late = await client('Late Electric', 'S4_NUMBER_ALLOCATED', 25 * hour);
    await live.clock.runFor(10_000);
    // Generous margin for a busy machine: the fetch and the DOM update are real work.
    await live.locator(`[data-client-id="${late.id}"]`).waitFor({ timeout: 60_000 });
    await expect(live.locator('#updated').textContent()).resolves.toMatch(/^updated \d\d:\d\d:\d\d UTC$/);
  });

  it('is readable without JavaScript, fits a 375 px screen, shows keyboard focus; screenshots saved', async () => {
    // Something in every list, for the screenshots (README).
    await client('Ace Roofing <script>alert(1)</script>', 'S9_TEST_CALL', 30 * hour);
    await deadLetter(`SM${'d'.repeat(32)}`);
    await app.ctx.db.prisma.outboundMessage.create({
      data: {
        toPhone: '+15553290002',
        fromPhone: systemNumber,
        body: 'Your number is live',
        purpose: 'onboarding',
        status: 'unknown',
        attempts: 1,
        lastError: 'no delivery receipt',
      },
    });
    await app.ctx.silences.create({ matcher: { type: ['OPENAI_FAILURE'] }, until: new Date(Date.now() + 2 * hour), reason: 'OpenAI incident' });
    await app.ctx.alerts.sendCriticalAlert({
      type: 'TWILIO_FAILURE',
      severity: 'MEDIUM',
      resourceId: 'sms',
      title: 'SMS failing',
      message: 'Twilio answered 500',
    });
    await page.goto(`${app.url}/admin`);
    await expect(page.locator('#silences li').count()).resolves.toBe(1);
    const desktop = await screenshot(page, 'console-desktop');

    const phone = await browser.signedIn({ viewport: { width: 375, height: 812 }, javaScriptEnabled: false });
    await expect(phone.locator('#stuck-clients li').count()).resolves.toBeGreaterThan(0);
    expect(await phone.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const mobile = await screenshot(phone, 'console-375');
    await phone.context().close();

    // Keyboard: tabbing reaches a button, and the focused element draws an outline.
    await page.goto(`${app.url}/admin`);
    let outline = 'none';
    for (let i = 0; i < 10 && outline === 'none'; i++) {
      await page.keyboard.press('Tab');
      // A string: the app's tsconfig has no DOM types.
      outline = await page.evaluate<string>(`(() => {
        const el = document.activeElement;
        return el === null || el === document.body ? 'none' : getComputedStyle(el).outlineStyle;
      })()`);
    }
    expect(outline).toBe('solid');
    expect([desktop, mobile]).toEqual([expect.stringMatching(/console-desktop\.png$/), expect.stringMatching(/console-375\.png$/)]);
  });

  it('signs out: the session cookie is gone and the page asks to sign in again', async () => {
    await page.goto(`${app.url}/admin`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${app.url}/admin/sign-in`);
    expect(Object.keys(await cookiesOf(page))).not.toContain('console_session');
    await page.goto(`${app.url}/admin`);
    expect(page.url()).toBe(`${app.url}/admin/sign-in`);
  });

  it('sent no request beyond the app on loopback', () => {
    expect(browser.requested.length).toBeGreaterThan(10);
    expect(browser.requested.filter((url) => !url.startsWith(`${app.url}/`))).toEqual([]);
  });
});
