// Hostile and odd input that is correctly signed, over real HTTP with each provider's own
// signing, on PostgreSQL + Redis and on PGlite with the file spool:
// - a NUL (which PostgreSQL refuses) is stored safely, the original kept escaped: no false
//   DATABASE_UNAVAILABLE, nothing spooled, the sender gets the real reply;
// - a spooled entry that can never be stored is set aside with an alert and never blocks
//   the real entries behind it;
// - Slack events without event_id (app_rate_limited) or with non-string fields, a `null`
//   body, Stripe events without id or data.object or with an object as
//   client_reference_id, outboxId=%00, a 5,000-character CallStatus: 200 (ignored, logged)
//   or 400, never 500, no false database alert, no field value in the logs.
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../src/alerts/alert-input.js';
import { texts } from '../../src/domain/messages.js';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { specName, type BackendSpec } from './support/backends.js';
import { rowCounts } from './support/db-inspect.js';
import { checkoutCompleted, invoicePaid, slackMessage } from './support/events.js';
import { callSid, messageSid, phone, slackEventId, stripeEventId } from './support/phones.js';
import { slackHeaders, stripeSignature } from './support/signing.js';
import { startTestApp, type HttpReply, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

const specs: BackendSpec[] = [
  { backend: 'postgres', redis: true },
  { backend: 'pglite', redis: false },
];

/** A value that must never appear in a log line (it stands for a customer's text). */
const marker = 'MARKER-7f3a9c-customer-text';

describe.each(specs.map((spec) => ({ spec, name: specName(spec) })))('hostile input on $name', ({ spec }) => {
  const up = (spec.backend !== 'postgres' || postgresUp) && (!spec.redis || redisUp);
  let app: TestApp;
  const alerts: AlertInput[] = [];

  beforeAll(async () => {
    if (!up) return;
    app = await startTestApp({ spec, label: `hostile_${specName(spec)}`, overrides: { alert: (alert) => void alerts.push(alert) } });
    // PGlite (WebAssembly) starts slowly on a busy machine.
  }, 120_000);
  afterAll(async () => app?.close());
  beforeEach(() => {
    alerts.length = 0;
  });

  const withoutDedup = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([table]) => !table.startsWith('idempotency')));
  const businessRowCounts = async () => withoutDedup(await rowCounts(app.ctx.db));
  const databaseAlerts = () => alerts.filter((a) => a.type === 'DATABASE_UNAVAILABLE');

  /** Signs `raw` as Slack does and posts it as is (for bodies JSON.stringify would not produce). */
  const slackRaw = (raw: string) =>
    app.request('POST', '/slack/events', {
      headers: { 'Content-Type': 'application/json', ...slackHeaders(app.providers.slackSigningSecret, raw) },
      body: raw,
    });
  const stripeRaw = (raw: string) =>
    app.request('POST', '/webhooks/stripe', {
      headers: { 'Content-Type': 'application/json', 'Stripe-Signature': stripeSignature(app.providers.stripeWebhookSecret, raw) },
      body: raw,
    });

  describe('U+0000 and other input PostgreSQL refuses', () => {
    it.skipIf(!up)('an SMS with NUL gets its real reply; stored without the NUL, the original kept escaped; no spool, no database alert', async () => {
      const sid = messageSid();
      const reply = await app.sms({ from: phone(), to: app.systemNumber, body: `Hi\u0000 there ${marker}`, messageSid: sid });
      expect(reply.status, reply.body).toBe(200);
      expect(reply.messages).toEqual([texts.welcome]);
      const row = await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } });
      expect(row.status).toBe('processed');
      const payload = row.payload as Record<string, string>;
      expect(payload.Body).toBe(`Hi there ${marker}`);
      expect(JSON.parse(payload._escaped!)).toEqual({ Body: `Hi\\u0000 there ${marker}` });
      expect(await app.ctx.spool.size()).toBe(0);
      expect(databaseAlerts()).toEqual([]);
    });

    it.skipIf(!up)('NUL in the field names, and a 10,000-character body: stored, answered', async () => {
      const sid = messageSid();
      const from = phone();
      const reply = await app.twilioWebhook('/sms', {
        MessageSid: sid,
        From: from,
        To: app.systemNumber,
        Body: 'y'.repeat(10_000),
        'Odd\u0000Field': 'v\u0000',
      });
      expect(reply.status, reply.body).toBe(200);
      expect(reply.messages).toEqual([texts.welcome]);
      expect(await app.ctx.spool.size()).toBe(0);
      expect(databaseAlerts()).toEqual([]);
    });

    it.skipIf(!up)('a Slack message with NUL and lone surrogates is stored cleaned (U+FFFD), acknowledged 200, not spooled', async () => {
      const eventId = slackEventId();
      const raw = JSON.stringify(slackMessage(`Leak\u0000 at \ud800 the \udc00 depot ${marker}`, { eventId }));
      expect(raw).toContain('\\u0000');
      expect(raw).toContain('\\ud800');
      const reply = await slackRaw(raw);
      expect(reply.status, reply.body).toBe(200);
      const signal = await app.ctx.db.prisma.slackSignal.findUniqueOrThrow({ where: { eventId } });
      expect(signal.text).toBe(`Leak at \ufffd the \ufffd depot ${marker}`);
      expect(await app.ctx.spool.size()).toBe(0);
      expect(databaseAlerts()).toEqual([]);
    });
  });

  describe('the spool never blocks on an entry that cannot be stored', () => {
    it.skipIf(!up)('poison entries ahead of real ones: the real ones drain, the poison is set aside with one alert each', async () => {
      const real = [messageSid(), messageSid()];
      const legacyNul = messageSid();
      const slackId = slackEventId();
      const receivedAt = new Date().toISOString();
      const sms = (sid: string, body: string) => ({
        provider: 'twilio_sms' as const,
        receivedAt,
        payload: { MessageSid: sid, From: phone(), To: app.systemNumber, Body: body },
      });
      // Spooled before the webhooks made input storable: a NUL in the body.
      await app.ctx.spool.put(sms(legacyNul, `old\u0000 poison ${marker}`));
      // Never storable: no From, a MessageSid no provider sends, a Slack envelope without event_id.
      await app.ctx.spool.put({ provider: 'twilio_sms', receivedAt, payload: { MessageSid: messageSid(), Body: marker } });
      await app.ctx.spool.put(sms(`SM${'x'.repeat(300)}`, marker));
      await app.ctx.spool.put({ provider: 'slack', receivedAt, payload: { type: 'event_callback', event: { type: 'message', text: marker } } });
      for (const sid of real) await app.ctx.spool.put(sms(sid, 'A real message from the outage'));
      await app.ctx.spool.put({ provider: 'slack', receivedAt, payload: slackMessage('A real Slack message', { eventId: slackId }) });
      expect(await app.ctx.spool.size()).toBe(7);

      const report = await sweepOnce(app.ctx);
      expect(report.spoolDrained).toBe(4);
      expect(await app.ctx.spool.size()).toBe(0);
      for (const sid of [...real, legacyNul]) expect(await app.ctx.db.prisma.inboundEvent.count({ where: { messageSid: sid } }), sid).toBe(1);
      expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId: slackId } })).toBe(1);
      const legacy = await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: legacyNul } });
      expect((legacy.payload as Record<string, string>).Body).toBe(`old poison ${marker}`);

      const dead = await app.ctx.spool.deadLetters();
      expect(dead).toHaveLength(3);
      expect(dead.every((d) => d.reason.length > 0 && d.attempts === 1)).toBe(true);
      expect(alerts.filter((a) => a.type === 'SPOOL_DEAD_LETTER')).toHaveLength(3);
      expect(databaseAlerts()).toEqual([]);
      // A second sweep finds nothing left to do.
      expect((await sweepOnce(app.ctx)).spoolDrained).toBe(0);
      app.logs.assertNever([marker]);
    });
  });

  describe('Slack: signed bodies the app cannot use', () => {
    it.skipIf(!up)('app_rate_limited (no event_id): 200, logged, a rate-limit alert, no database alert, no spool', async () => {
      const reply = await slackRaw(
        JSON.stringify({ token: 't', team_id: 'T0E2E', minute_rate_limited: 1518467820, api_app_id: 'A0E2E', type: 'app_rate_limited' }),
      );
      expect(reply.status).toBe(200);
      expect(alerts.map((a) => a.type)).toEqual(['SLACK_RATE_LIMITED']);
      expect(app.logs.find(/app_rate_limited/, 40)).not.toEqual([]);
      expect(await app.ctx.spool.size()).toBe(0);
    });

    it.skipIf(!up)('event_callback without event_id, or with non-string fields: 200 ignored and logged by path, never by value', async () => {
      const before = await rowCounts(app.ctx.db);
      const noId = slackMessage(marker);
      delete noId.event_id;
      const objectText = slackMessage('x');
      (objectText.event as Record<string, unknown>).text = { secret: marker };
      const numberUser = slackMessage(marker);
      (numberUser.event as Record<string, unknown>).user = 12345;
      const idWithNul = slackMessage(marker, { eventId: 'Ev\u0000x' });
      const nestedId = { ...slackMessage(marker), event_id: { $ne: null } };
      for (const body of [noId, objectText, numberUser, idWithNul, nestedId, { type: 'event_callback', event_id: slackEventId(), event: 'text' }]) {
        const reply = await app.slackEvent(body);
        expect(reply.status, JSON.stringify(body)).toBe(200);
      }
      expect(await rowCounts(app.ctx.db)).toEqual(before);
      expect(databaseAlerts()).toEqual([]);
      expect(await app.ctx.spool.size()).toBe(0);
      expect(app.logs.find(/Slack event ignored/, 40).length).toBeGreaterThanOrEqual(6);
      app.logs.assertNever([marker]);
    });

    it.skipIf(!up)('a body of `null`, an array, a number, no type: 400 with X-Slack-No-Retry, never 500', async () => {
      for (const raw of ['null', '[]', '42', '"text"', '{"type":7}', '{}', '{"type":"url_verification","challenge":{"a":1}}']) {
        const reply = await slackRaw(raw);
        expect(reply.status, raw).toBe(400);
        expect(reply.headers.get('x-slack-no-retry'), raw).toBe('1');
        expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
      expect(databaseAlerts()).toEqual([]);
    });
  });

  describe('Stripe: signed events without the fields the app relies on', () => {
    it.skipIf(!up)('no id, no data.object, null body, an object as client_reference_id: 200, never 500, nothing activated', async () => {
      const before = await rowCounts(app.ctx.db);
      const noId = checkoutCompleted('client-1');
      delete noId.id;
      const noObject = { ...checkoutCompleted('client-1'), data: {} };
      const objectRef = checkoutCompleted(undefined);
      (objectRef.data as { object: Record<string, unknown> }).object.client_reference_id = { $ne: null };
      const stringData = { ...invoicePaid(), data: 'x' };
      const longId = invoicePaid(`evt_${'9'.repeat(5000)}`);
      const nulRef = checkoutCompleted(`abc\u0000def`);
      const replies: HttpReply[] = [];
      for (const event of [noId, noObject, objectRef, stringData, longId, nulRef]) replies.push(await app.stripeEvent(event));
      for (const raw of ['null', '[]', '{"id":5}']) replies.push(await stripeRaw(raw));
      for (const reply of replies) expect(reply.status, reply.body).toBe(200);
      // Only the dedup records of the readable events (in the database without Redis).
      expect(await businessRowCounts()).toEqual(withoutDedup(before));
      // The payments that name no readable client are visible.
      expect(alerts.filter((a) => a.type === 'PAYMENT_UNMATCHED')).toHaveLength(2);
      expect(databaseAlerts()).toEqual([]);
    });

    it.skipIf(!up)('a well-formed event still works after the odd ones (dedup on id)', async () => {
      const id = stripeEventId();
      expect((await app.stripeEvent(invoicePaid(id))).status).toBe(200);
      expect((await app.stripeEvent(invoicePaid(id))).status).toBe(200);
    });
  });

  describe('Twilio: signed callbacks with values no dedup key or column fits', () => {
    it.skipIf(!up)('outboxId=%00, outboxId not a UUID, an unknown MessageStatus: 200 TwiML, ignored and logged', async () => {
      const before = await rowCounts(app.ctx.db);
      for (const query of ['outboxId=%00', 'outboxId=not-an-id', `outboxId=${'a'.repeat(5000)}`, 'outboxId=00000000-0000-4000-8000-000000000000&outboxId=x']) {
        const reply = await app.twilioWebhook(`/api/twilio/message-status?${query}`, { MessageSid: messageSid(), MessageStatus: 'delivered' });
        expect(reply.status, `${query.slice(0, 40)}: ${reply.body}`).toBe(200);
      }
      const unknown = await app.twilioWebhook('/api/twilio/message-status?outboxId=00000000-0000-4000-8000-000000000000', {
        MessageSid: messageSid(),
        MessageStatus: 'x'.repeat(5000),
      });
      expect(unknown.status).toBe(200);
      expect(await rowCounts(app.ctx.db)).toEqual(before);
      expect(app.logs.find(/message status callback ignored/, 40).length).toBeGreaterThanOrEqual(5);
    });

    it.skipIf(!up)('a 5,000-character CallStatus: 200, ignored; a CallSid with NUL: 400; no fail-safe SMS, no database alert', async () => {
      const sent = app.providers.twilio.messages.length;
      const long = await app.callStatus({ callSid: callSid(), from: phone(), to: app.systemNumber, status: 'no-answer'.repeat(556) });
      expect(long.status, long.body).toBe(200);
      const nul = await app.callStatus({ callSid: `CA\u0000${'1'.repeat(31)}`, from: phone(), to: app.systemNumber, status: 'no-answer' });
      expect(nul.status, nul.body).toBe(400);
      const overLong = await app.callStatus({ callSid: `CA${'1'.repeat(400)}`, from: phone(), to: app.systemNumber, status: 'no-answer' });
      expect(overLong.status, overLong.body).toBe(400);
      expect(app.providers.twilio.messages.length).toBe(sent);
      expect(alerts).toEqual([]);
    });

    it.skipIf(!up)('an SMS whose MessageSid no key fits (NUL, 300 characters): 400, nothing stored', async () => {
      const before = await rowCounts(app.ctx.db);
      for (const sid of [`SM\u0000abc`, `SM${'a'.repeat(300)}`]) {
        const reply = await app.sms({ from: phone(), to: app.systemNumber, body: 'Hi', messageSid: sid });
        expect(reply.status, reply.body).toBe(400);
      }
      expect(await rowCounts(app.ctx.db)).toEqual(before);
    });
  });
});
