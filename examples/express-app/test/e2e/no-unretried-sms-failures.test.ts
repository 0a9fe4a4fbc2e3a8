// Acceptance rule: no unretried SMS failures, and never an SMS sent twice. A send Twilio
// certainly did not take (503, connection refused) is retried; a send whose outcome is
// unknown (the answer was lost, a 500) is looked up in Twilio's message log before any
// retry. Outbound SMS come from real flows (missed calls) and go out through the outbox.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requirePostgres, type RecordedRequest } from '@hardening/test-support';
import { texts } from '../../src/domain/messages.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { levels } from './support/log-capture.js';
import { callSid, phone } from './support/phones.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('no unretried SMS failures (PostgreSQL)', () => {
  let app: TestApp;
  let client: OnboardedClient;

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, label: 'smsretry' });
    await app.addPoolNumbers(1);
    client = await onboardClient(app, { businessName: 'Drain Kings' });
  });
  afterAll(async () => app?.close());
  beforeEach(() => {
    // Shorter than production (30 s timeout, 1 s backoff, 30 s cooldown) so the test is quick.
    app.ctx.safeCall.configure('twilio_sms', { timeoutMs: 600, backoff: { initialDelayMs: 50 }, breaker: { failureThreshold: 3, cooldownMs: 300 } });
    app.ctx.safeCall.configure('twilio_lookup', { backoff: { initialDelayMs: 50 }, breaker: { failureThreshold: 3, cooldownMs: 300 } });
    app.providers.twilio.clearFaults();
    app.providers.twilioFront.clearFaults();
  });

  const sendsTo = (to: string) => (request: RecordedRequest) =>
    request.method === 'POST' && request.path.endsWith('/Messages.json') && (request.body as Record<string, string>).To === to;
  const postsTo = (to: string) => app.providers.twilio.requests.filter(sendsTo(to));
  const missedCall = async (caller: string) => {
    expect((await app.callStatus({ callSid: callSid(), from: caller, to: client.number, status: 'no-answer' })).status).toBe(200);
  };
  const row = (to: string) => app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: to }, orderBy: { createdAt: 'desc' } });

  it('a Twilio 503 on an outbound SMS is retried and the SMS sent once', async () => {
    const caller = phone();
    app.providers.twilio.fail({ status: 503, match: sendsTo(caller) });
    await missedCall(caller);
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(postsTo(caller).map((r) => r.status)).toEqual([503, 201]);
    expect(app.smsTo(caller).map((m) => m.body)).toEqual([texts.missedCall('Drain Kings')]);
    expect(await row(caller)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('Twilio down: the breaker opens, the SMS waits with its next attempt scheduled, and goes out once Twilio is back', async () => {
    const caller = phone();
    app.providers.twilio.fail({ status: 503, match: sendsTo(caller), times: 3 });
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0, retrying: 1 });
    const waiting = await row(caller);
    expect(waiting).toMatchObject({ status: 'failed' });
    expect(waiting.lastError).toMatch(/503|Service Unavailable/);
    expect(waiting.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
    expect(app.ctx.breakers.snapshot().find((b) => b.name === 'twilio_sms')?.state).toBe('open');

    // Later (the scheduler's next round after the delay), Twilio is back.
    await new Promise((r) => setTimeout(r, 350));
    await app.ctx.db.prisma.outboundMessage.update({ where: { id: waiting.id }, data: { nextAttemptAt: new Date() } });
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(caller)).toHaveLength(1);
    expect(await row(caller)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(app.ctx.breakers.snapshot().find((b) => b.name === 'twilio_sms')?.state).toBe('closed');
  });

  it('an unknown outcome (Twilio took the SMS, its answer was lost) is reconciled from the message log, never sent twice', async () => {
    const caller = phone();
    app.providers.twilioFront.loseAnswers(1, sendsTo(caller));
    await missedCall(caller);
    // Next attempt at once: the lookup must stop a second send.
    const round = await app.drainOutbox({ retryDelayMs: () => 0 });
    expect(round).toMatchObject({ unknown: 1, reconciled: 1, sent: 0 });
    expect(app.smsTo(caller)).toHaveLength(1);
    expect(await row(caller)).toMatchObject({ status: 'sent', twilioSid: app.smsTo(caller)[0]!.sid });
    expect(app.logs.find('not sent again')).toHaveLength(1);
  });

  it('an unknown outcome where Twilio did not take the SMS (a 500): looked up, not found, sent once', async () => {
    const caller = phone();
    app.providers.twilio.fail({ status: 500, match: sendsTo(caller) });
    await missedCall(caller);
    const round = await app.drainOutbox({ retryDelayMs: () => 0 });
    expect(round).toMatchObject({ unknown: 1, sent: 1 });
    expect(app.smsTo(caller)).toHaveLength(1);
  });

  it('the same text to the same person twice: an unknown outcome is matched to its own message, not to the earlier one', async () => {
    const caller = phone();
    await missedCall(caller);
    expect((await app.drainOutbox()).sent).toBe(1);
    // The caller rings again; this time Twilio fails with a 500 before taking the message.
    app.providers.twilio.fail({ status: 500, match: sendsTo(caller) });
    await missedCall(caller);
    const round = await app.drainOutbox({ retryDelayMs: () => 0 });
    expect(round).toMatchObject({ unknown: 1, sent: 1, reconciled: 0 });
    expect(app.smsTo(caller)).toHaveLength(2);
    const rows = await app.ctx.db.prisma.outboundMessage.findMany({ where: { toPhone: caller } });
    expect(new Set(rows.map((r) => r.twilioSid)).size).toBe(2);
  });

  it('the lookup itself fails: the outcome stays unknown and nothing is sent blind, until the lookup answers', async () => {
    const caller = phone();
    app.providers.twilioFront.loseAnswers(1, sendsTo(caller));
    const lists = (request: RecordedRequest) => request.method === 'GET' && request.path.endsWith('/Messages.json') && request.query.To === caller;
    app.providers.twilio.fail({ status: 503, match: lists, times: 3 });
    await missedCall(caller);
    // The lookup is tried at once (and fails three times), then the next attempt is scheduled.
    const first = await app.drainOutbox({ retryDelayMs: (attempts) => (attempts === 1 ? 0 : 60_000) });
    expect(first).toMatchObject({ unknown: 2, sent: 0 });
    expect((await row(caller)).status).toBe('unknown');
    expect(app.logs.find('could not look up an SMS of unknown outcome', levels.warn).length).toBeGreaterThanOrEqual(1);
    // Later: the lookup's breaker has cooled down and Twilio's log answers again.
    await new Promise((r) => setTimeout(r, 350));
    await app.ctx.db.prisma.outboundMessage.updateMany({ where: { toPhone: caller }, data: { nextAttemptAt: new Date() } });
    const second = await app.drainOutbox();
    expect(second).toMatchObject({ reconciled: 1, sent: 0 });
    expect(app.smsTo(caller)).toHaveLength(1);
  });
});
