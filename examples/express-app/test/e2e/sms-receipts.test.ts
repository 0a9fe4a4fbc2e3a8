// Issue 14, receipts that never arrive and the daily reconciliation, from the outside: fake
// Twilio moves messages without posting their callbacks (or posts wrong ones); the watch
// looks them up through the Messages API and reconciles the day against Twilio's list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@hardening/test-support';
import { checkMissingReceipts, reconcileDeliveries, type DeliveryWatchDeps } from '../../src/jobs/delivery-watch.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { callSid, phone } from './support/phones.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('missing receipts and reconciliation (PGlite)', () => {
  let app: TestApp;
  let client: OnboardedClient;
  let deps: DeliveryWatchDeps;

  beforeAll(async () => {
    app = await startTestApp({ label: 'receipts' });
    await app.addPoolNumbers(1);
    client = await onboardClient(app, { businessName: 'Quiet Carriers' });
    const { ctx } = app;
    deps = {
      db: ctx.db.prisma,
      sender: ctx.sms,
      safeCall: ctx.safeCall,
      deliverability: ctx.deliverability,
      logger: ctx.logger,
      alert: ctx.alert,
      alerts: ctx.alerts,
    };
  });
  afterAll(async () => app?.close());

  const textedAfterMissedCall = async () => {
    const caller = phone();
    await app.callStatus({ callSid: callSid(), from: caller, to: client.number, status: 'no-answer' });
    await app.drainOutbox();
    const sent = app.smsTo(caller)[0]!;
    const row = await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { twilioSid: sent.sid } });
    return { caller, sid: sent.sid, id: row.id };
  };
  const later = () => Date.now() + 31 * 60_000;

  it('a message whose receipt never came is looked up after 30 min: a final status at Twilio is applied; one still pending there is reported stuck and alerted', async () => {
    const delivered = await textedAfterMissedCall();
    const pending = await textedAfterMissedCall();
    app.providers.twilio.setStatus(delivered.sid, 'delivered');
    app.providers.twilio.setStatus(pending.sid, 'sent');
    const lookups = () => app.providers.twilio.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/Messages/${delivered.sid}.json`)).length;

    // Not yet 30 min: nothing looked up.
    expect(await checkMissingReceipts(deps)).toMatchObject({ lookedUp: 0 });
    const before = await counterValue(app.ctx.metrics.smsDeliveries, { status: 'delivered' });
    const report = await checkMissingReceipts({ ...deps, now: later });
    expect(report).toMatchObject({ resolved: 1, lookupFailed: 0 });
    expect(lookups()).toBe(1);
    expect(await app.ctx.db.prisma.outboundMessage.findUniqueOrThrow({ where: { id: delivered.id } })).toMatchObject({
      status: 'delivered',
      deliveryStatus: 'delivered',
    });
    expect((await counterValue(app.ctx.metrics.smsDeliveries, { status: 'delivered' })) - before).toBe(1);
    expect(report.stuck.map((s) => s.id)).toContain(pending.id);
    await eventually(async () => ((await app.ctx.alerts.getAlertStats({ hours: 1 })).byType.SMS_RECEIPT_MISSING?.total ?? 0) > 0, 10_000);

    // The admin API lists it as unconfirmed.
    const unconfirmed = JSON.parse((await app.admin('GET', '/api/admin/deliveries/unconfirmed?olderThanMinutes=0')).body) as { items: Array<{ id: string }> };
    expect(unconfirmed.items.map((i) => i.id)).toContain(pending.id);
    expect(unconfirmed.items.map((i) => i.id)).not.toContain(delivered.id);
  });

  it('the daily reconciliation applies receipts only Twilio has and reports what disagrees', async () => {
    const missed = await textedAfterMissedCall();
    const contradicted = await textedAfterMissedCall();
    app.providers.twilio.setStatus(missed.sid, 'undelivered', 30005);
    await app.providers.twilio.sendStatus(contradicted.sid, 'delivered');
    app.providers.twilio.setStatus(contradicted.sid, 'failed', 30008);
    // A message from our sender the outbox never sent (someone used the console).
    const stray = await app.providers.twilio.client().messages.create({ to: phone(), from: client.number, body: 'sent by hand' });

    const report = await reconcileDeliveries(deps, { since: new Date(Date.now() - 3_600_000) });
    expect(report.applied).toBeGreaterThanOrEqual(1);
    expect(await app.ctx.db.prisma.outboundMessage.findUniqueOrThrow({ where: { id: missed.id } })).toMatchObject({
      status: 'undelivered',
      deliveryStatus: 'undelivered',
      errorCode: 30005,
    });
    const kinds = report.disagreements.map((d) => [d.kind, d.sid]);
    expect(kinds).toContainEqual(['status_differs', contradicted.sid]);
    expect(kinds).toContainEqual(['not_in_outbox', stray.sid]);
    expect(kinds.some(([, sid]) => sid === missed.sid)).toBe(false);
    await eventually(async () => ((await app.ctx.alerts.getAlertStats({ hours: 1 })).byType.SMS_RECONCILIATION?.total ?? 0) > 0, 10_000);
  });
});
