// Every webhook route rejects a missing or wrong signature with 403 and processes nothing:
// each request below would change the database (or send an SMS) if it were accepted.
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specName, type BackendSpec } from './support/backends.js';
import { rowCounts } from './support/db-inspect.js';
import { checkoutCompleted, slackMessage } from './support/events.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { callSid, phone } from './support/phones.js';
import { slackHeaders, stripeSignature, twilioSignature } from './support/signing.js';
import { startTestApp, type SignatureMode, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

const specs: BackendSpec[] = [
  { backend: 'pglite', redis: false },
  { backend: 'postgres', redis: true },
];

describe.each(specs.map((spec) => ({ spec, name: specName(spec) })))('webhook signatures on $name', ({ spec }) => {
  const up = (spec.backend !== 'postgres' || postgresUp) && (!spec.redis || redisUp);
  let app: TestApp;
  let client: OnboardedClient;
  let outboxId: string;

  beforeAll(async () => {
    if (!up) return;
    app = await startTestApp({ spec, label: `sig_${specName(spec)}` });
    await app.addPoolNumbers(2);
    client = await onboardClient(app);
    outboxId = (await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: client.owner } })).id;
    // A client waiting for payment: a forged checkout would activate it.
    const waiting = phone();
    for (const body of ['Hi', 'Waiting Co', 'We serve Ogdenville', 'YES']) await app.sms({ from: waiting, to: app.systemNumber, body });
  });
  afterAll(async () => app?.close());

  /** Sends `attempt` and checks: 403 problem+json, nothing written, nothing sent. */
  async function refused(attempt: () => Promise<{ status: number; headers: Headers; body: string }>) {
    const before = await rowCounts(app.ctx.db);
    const sent = app.providers.twilio.messages.length;
    const reply = await attempt();
    expect(reply.status, reply.body).toBe(403);
    expect(reply.headers.get('content-type')).toMatch(/application\/problem\+json/);
    // Give any work that escaped the check a moment to show.
    await new Promise((r) => setTimeout(r, 50));
    expect(await rowCounts(app.ctx.db)).toEqual(before);
    expect(app.providers.twilio.messages.length).toBe(sent);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
  }

  const modes: SignatureMode[] = ['missing', 'wrong'];

  describe.each(modes)('%s signature', (signature) => {
    it.skipIf(!up)('POST /sms (an owner starting onboarding)', () =>
      refused(() => app.sms({ from: phone(), to: app.systemNumber, body: 'Hi' }, { signature })),
    );

    it.skipIf(!up)('POST /api/twilio/status (a missed call to the system number)', () =>
      refused(() => app.callStatus({ callSid: callSid(), from: phone(), to: app.systemNumber, status: 'no-answer' }, { signature })),
    );

    it.skipIf(!up)('POST /api/twilio/message-status (an undelivered customer SMS)', () =>
      refused(() =>
        app.twilioWebhook(
          `/api/twilio/message-status?outboxId=${outboxId}`,
          {
            MessageSid: 'SM' + '0'.repeat(32),
            MessageStatus: 'undelivered',
            ErrorCode: '30006',
            To: client.owner,
            From: app.systemNumber,
            AccountSid: app.providers.twilio.accountSid,
          },
          { signature },
        ),
      ),
    );

    it.skipIf(!up)('POST /api/twilio/alert-status (an alert SMS receipt)', () =>
      refused(() =>
        app.twilioWebhook(
          '/api/twilio/alert-status',
          { MessageSid: 'SM' + '1'.repeat(32), MessageStatus: 'delivered', AccountSid: app.providers.twilio.accountSid },
          { signature },
        ),
      ),
    );

    it.skipIf(!up)('POST /slack/events (a message event)', () => refused(() => app.slackEvent(slackMessage('URGENT: flooded basement'), { signature })));

    it.skipIf(!up)('POST /webhooks/stripe (checkout for a waiting client)', async () => {
      const waiting = await app.ctx.db.prisma.client.findFirstOrThrow({ where: { onboardingState: 'S5_CONFIRM_LIVE' } });
      await refused(() => app.stripeEvent(checkoutCompleted(waiting.id), { signature }));
      expect((await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: waiting.id } })).paymentActive).toBe(false);
    });
  });

  describe('signatures that are real but do not fit', () => {
    it.skipIf(!up)('Twilio: signed for another URL (a different host)', () => {
      const params = { MessageSid: 'SM' + '2'.repeat(32), From: phone(), To: app.systemNumber, Body: 'Hi', AccountSid: app.providers.twilio.accountSid };
      return refused(() =>
        app.request('POST', '/sms', {
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'X-Twilio-Signature': twilioSignature(app.providers.twilio.authToken, 'https://evil.example.com/sms', params),
          },
          body: new URLSearchParams(params).toString(),
        }),
      );
    });

    it.skipIf(!up)('Twilio: a parameter changed after signing', () => {
      const params = { MessageSid: 'SM' + '3'.repeat(32), From: phone(), To: app.systemNumber, Body: 'Hi', AccountSid: app.providers.twilio.accountSid };
      const signature = twilioSignature(app.providers.twilio.authToken, `${app.publicBaseUrl}/sms`, params);
      return refused(() =>
        app.request('POST', '/sms', {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
          body: new URLSearchParams({ ...params, Body: 'STOP' }).toString(),
        }),
      );
    });

    it.skipIf(!up)('Slack: a valid signature older than 5 minutes (a replay)', () =>
      refused(() => app.slackEvent(slackMessage('replayed'), { timestampSec: Math.floor(Date.now() / 1000) - 6 * 60 })),
    );

    it.skipIf(!up)('Slack: the body changed after signing', () => {
      const raw = JSON.stringify(slackMessage('original'));
      return refused(() =>
        app.request('POST', '/slack/events', {
          headers: { 'Content-Type': 'application/json', ...slackHeaders(app.providers.slackSigningSecret, raw) },
          body: raw.replace('original', 'tampered'),
        }),
      );
    });

    it.skipIf(!up)('Stripe: the body changed after signing', async () => {
      const waiting = await app.ctx.db.prisma.client.findFirstOrThrow({ where: { onboardingState: 'S5_CONFIRM_LIVE' } });
      const honest = JSON.stringify(checkoutCompleted('cl_nobody'), null, 2);
      const header = stripeSignature(app.providers.stripeWebhookSecret, honest);
      await refused(() =>
        app.request('POST', '/webhooks/stripe', {
          headers: { 'Content-Type': 'application/json', 'Stripe-Signature': header },
          body: honest.replace('cl_nobody', waiting.id),
        }),
      );
    });
  });

  it.skipIf(!up)('refusals are counted and logged, without the signature or the number', async () => {
    expect(await counterValue(app.ctx.metrics.webhooks, { outcome: 'bad_signature' })).toBeGreaterThanOrEqual(14);
    expect(app.logs.find(/refused/).length).toBeGreaterThan(0);
  });
});
