// Issue 11, the seed walk's routing defects: a caller of the system number is not onboarded
// as a business, the operator's reply to an alert SMS is an acknowledgement (not onboarding),
// and a text to a number we do not use is visible (warning and metric), not only answered.
// (PAUSE: no-call-black-holes.test.ts checks the paused client's callers get the short note
// the PAUSE confirmation promises.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { levels } from './support/log-capture.js';
import { counterValue } from './support/metrics.js';
import { callSid, messageSid, phone } from './support/phones.js';
import { adminPhone, startTestApp, type TestApp } from './support/test-app.js';

describe('routing of texts that are not an owner onboarding (PGlite)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ label: 'seedrouting' });
  }, 120_000);
  afterAll(async () => app?.close());

  const clients = (phoneNumber: string) => app.ctx.db.prisma.client.count({ where: { phone: phoneNumber } });

  it('a caller of the system number who writes back after the fail-safe text is not onboarded; a person is asked to answer', async () => {
    const caller = phone();
    await app.callStatus({ callSid: callSid(), from: caller, to: app.systemNumber, status: 'no-answer' });
    await app.drainOutbox();
    expect(app.smsTo(caller).map((m) => m.body)).toEqual([texts.failsafe]);
    const before = await counterValue(app.ctx.metrics.unroutedTexts, { route: 'system_caller' });
    const reply = await app.sms({ from: caller, to: app.systemNumber, body: 'I need a plumber for a leak', messageSid: messageSid() });
    expect(reply.messages).toEqual([texts.systemCallerAck]);
    expect(await clients(caller)).toBe(0);
    expect(await counterValue(app.ctx.metrics.unroutedTexts, { route: 'system_caller' })).toBe(before + 1);
    expect(app.logs.find('a caller of the system number wrote back', levels.warn)).toHaveLength(1);
    // Someone who never called us is still welcomed as a new business.
    const owner = phone();
    expect((await app.sms({ from: owner, to: app.systemNumber, body: 'Hi' })).messages).toEqual([texts.welcome]);
    expect(await clients(owner)).toBe(1);
  });

  it("the operator's reply from ALERT_SMS_TO is answered as the operator's and onboards nobody (only 'ACK [code]' acknowledges)", async () => {
    const reply = await app.sms({ from: adminPhone, to: app.systemNumber, body: 'OK, looking at it', messageSid: messageSid() });
    expect(reply.messages).toEqual([texts.operatorAck]);
    expect(await clients(adminPhone)).toBe(0);
    // Free text acknowledges nothing (test/e2e/alert-acknowledgement.test.ts covers 'ACK'); it is logged.
    expect(app.logs.find('operator answered an alert SMS (not an ACK: nothing acknowledged)', levels.warn)).toHaveLength(1);
  });

  it('a text to a number we do not use is answered, counted and logged as a warning', async () => {
    const before = await counterValue(app.ctx.metrics.unroutedTexts, { route: 'unknown_number' });
    const reply = await app.sms({ from: phone(), to: '+18885550166', body: 'hello?', messageSid: messageSid() });
    expect(reply.messages).toEqual([texts.failsafe]);
    expect(await counterValue(app.ctx.metrics.unroutedTexts, { route: 'unknown_number' })).toBe(before + 1);
    expect(app.logs.find('a text to a number we do not use', levels.warn)).toHaveLength(1);
  });
});
