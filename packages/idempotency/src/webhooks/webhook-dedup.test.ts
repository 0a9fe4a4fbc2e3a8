// The webhook dedup helpers in a real Express app, fed requests signed the way each
// provider signs them (with the providers' own SDKs) and verified the way the README says.
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordingLogger } from '../../test/support/guard-helpers.js';
import { createMemoryStore } from '../memory-store.js';
import { verifySlackSignature } from './slack.js';
import { createWebhookDedup } from './webhook-dedup.js';
import type { WebhookResult } from './webhook-types.js';

const twilioAuthToken = '12345678901234567890123456789012';
const slackSigningSecret = 'slack-signing-secret-for-tests';
const stripeSecret = 'whsec_test_secret_for_idempotency';
const standardSecret = `whsec_${Buffer.from('standard-webhooks-test-secret-32b').toString('base64')}`;

const { lines, logger } = recordingLogger();
const runs: Record<string, number> = {};
const count = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
const send = (res: express.Response, result: WebhookResult) => res.status(result.status).set(result.headers).send(result.body);
let base = '';
let server: Server;
let slowGate: Promise<void> = Promise.resolve();
const store = createMemoryStore();
/** Every claim the dedup makes (a retry's polls included), to order a test's steps. */
const claims = vi.spyOn(store, 'claim');

beforeAll(async () => {
  const dedup = createWebhookDedup({ store, logger });
  const stripe = new Stripe('sk_test_not_used_for_webhooks');
  const app = express();

  // Twilio: form body; signature over the public URL + sorted params.
  app.post('/twilio/:endpoint', express.urlencoded({ extended: false }), async (req, res, next) => {
    try {
      const url = `${base}${req.originalUrl}`;
      if (!twilio.validateRequest(twilioAuthToken, String(req.headers['x-twilio-signature'] ?? ''), url, req.body)) return void res.sendStatus(403);
      const endpoint = String(req.params.endpoint);
      const result = await dedup.twilio(
        { headers: req.headers, params: req.body },
        async () => {
          const n = count(`twilio:${endpoint}`);
          await slowGate;
          if (req.body.Body === 'fail') throw new Error('LLM provider down');
          return `<Response><Message>Reply #${n} to ${endpoint}</Message></Response>`;
        },
        { endpoint, kind: endpoint === 'voice-status' ? 'voice-status' : 'auto' },
      );
      send(res, result);
    } catch (error) {
      next(error);
    }
  });

  // Slack: verify over the raw bytes before parsing.
  app.post('/slack/events', express.raw({ type: 'application/json' }), async (req, res, next) => {
    try {
      if (!verifySlackSignature({ signingSecret: slackSigningSecret, headers: req.headers, rawBody: req.body })) return void res.sendStatus(401);
      const result = await dedup.slack({ headers: req.headers, body: JSON.parse(req.body.toString('utf8')) }, () => {
        count('slack');
        return Promise.resolve();
      });
      send(res, result);
    } catch (error) {
      next(error);
    }
  });

  app.post('/stripe', express.raw({ type: 'application/json' }), async (req, res, next) => {
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(req.body, String(req.headers['stripe-signature']), stripeSecret);
    } catch {
      return void res.sendStatus(400);
    }
    try {
      const result = await dedup.stripe(event, (e) => {
        count('stripe');
        if ((e.data.object as { fail?: boolean }).fail === true && runs.stripe === 1) return Promise.reject(new Error('fulfilment failed'));
        return Promise.resolve();
      });
      send(res, result);
    } catch (error) {
      next(error);
    }
  });

  app.post('/standard', express.raw({ type: 'application/json' }), async (req, res, next) => {
    try {
      new Webhook(standardSecret).verify(req.body, req.headers as Record<string, string>);
    } catch {
      return void res.sendStatus(401);
    }
    try {
      send(
        res,
        await dedup.standardWebhooks({ headers: req.headers }, () => {
          count('standard');
          return Promise.resolve();
        }),
      );
    } catch (error) {
      next(error);
    }
  });

  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function postTwilio(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const signature = twilio.getExpectedTwilioSignature(twilioAuthToken, `${base}${path}`, params);
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

function postSlack(body: unknown, headers: Record<string, string> = {}, timestamp = Math.floor(Date.now() / 1000)) {
  const raw = JSON.stringify(body);
  const signature = `v0=${createHmac('sha256', slackSigningSecret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
  return fetch(`${base}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature, ...headers },
    body: raw,
  });
}

function postStripe(event: object) {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: stripeSecret });
  return fetch(`${base}/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
}

function postStandard(id: string, payload: object) {
  const raw = JSON.stringify(payload);
  const timestamp = new Date();
  const signature = new Webhook(standardSecret).sign(id, timestamp, raw);
  return fetch(`${base}/standard`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body: raw,
  });
}

describe('Twilio webhooks', () => {
  const sms = { MessageSid: 'SM0001', SmsStatus: 'received', From: '+15551234567', To: '+15557654321', Body: 'Hi' };

  it('a retried SMS gets the same TwiML as the first time and is processed once, logged as a duplicate', async () => {
    const first = await postTwilio('/twilio/sms', sms, { 'i-twilio-idempotency-token': 'tok-1' });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/xml');
    const twiml = await first.text();
    expect(twiml).toBe('<Response><Message>Reply #1 to sms</Message></Response>');
    const retry = await postTwilio('/twilio/sms', sms, { 'i-twilio-idempotency-token': 'tok-1' });
    expect(retry.status).toBe(200);
    expect(await retry.text()).toBe(twiml);
    expect(runs['twilio:sms']).toBe(1);
    const duplicate = lines.find((l) => l.msg?.includes('duplicate delivery') && l.obj.key === 'sms:SM0001');
    expect(duplicate?.obj).toMatchObject({ provider: 'twilio', endpoint: 'sms', twilioIdempotencyToken: 'tok-1' });
    expect(JSON.stringify(lines)).not.toContain('5551234567');
  });

  it('refuses a request with a bad signature before any dedup', async () => {
    const res = await fetch(`${base}/twilio/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' },
      body: new URLSearchParams(sms).toString(),
    });
    expect(res.status).toBe(403);
  });

  it('voice status callbacks dedup on CallSid + CallStatus: each status once', async () => {
    const call = { CallSid: 'CA0001', From: '+15551234567', To: '+15557654321' };
    await postTwilio('/twilio/voice-status', { ...call, CallStatus: 'ringing' });
    await postTwilio('/twilio/voice-status', { ...call, CallStatus: 'completed' });
    await postTwilio('/twilio/voice-status', { ...call, CallStatus: 'completed' });
    expect(runs['twilio:voice-status']).toBe(2);
  });

  it('honours I-Twilio-Idempotency-Token for other call webhooks (many per CallSid)', async () => {
    const gather = { CallSid: 'CA0002', CallStatus: 'in-progress', Digits: '1' };
    await postTwilio('/twilio/gather', gather, { 'i-twilio-idempotency-token': 'g-1' });
    await postTwilio('/twilio/gather', gather, { 'i-twilio-idempotency-token': 'g-1' });
    await postTwilio('/twilio/gather', { ...gather, Digits: '2' }, { 'i-twilio-idempotency-token': 'g-2' });
    expect(runs['twilio:gather']).toBe(2);
  });

  it('a retry arriving while the first is still processed waits for it and gets its TwiML', async () => {
    let open!: () => void;
    slowGate = new Promise<void>((resolve) => (open = resolve));
    const params = { ...sms, MessageSid: 'SM0002' };
    const before = runs['twilio:sms'] ?? 0;
    const first = postTwilio('/twilio/sms', params);
    await vi.waitFor(() => expect(runs['twilio:sms']).toBe(before + 1), { timeout: 10_000, interval: 5 }); // the first is inside the handler
    const claimed = claims.mock.calls.length;
    const retry = postTwilio('/twilio/sms', params);
    await vi.waitFor(() => expect(claims.mock.calls.length).toBeGreaterThanOrEqual(claimed + 2), { timeout: 10_000, interval: 5 }); // the retry found it in progress and polled again
    open();
    slowGate = Promise.resolve();
    const [a, b] = await Promise.all([first, retry]);
    expect(await b.text()).toBe(await a.text());
    expect(b.status).toBe(200);
  });

  it("a handler failure answers 5xx and releases the key, so Twilio's retry is processed", async () => {
    const params = { ...sms, MessageSid: 'SM0003', Body: 'fail' };
    expect((await postTwilio('/twilio/sms', params)).status).toBe(500);
    const before = runs['twilio:sms']!;
    expect((await postTwilio('/twilio/sms', params)).status).toBe(500);
    expect(runs['twilio:sms']).toBe(before + 1);
  });
});

describe('Slack Events API', () => {
  const envelope = { type: 'event_callback', event_id: 'Ev0001', event: { type: 'message', text: 'hello' } };

  it('answers url_verification with the challenge', async () => {
    const res = await postSlack({ type: 'url_verification', challenge: 'c-123' });
    expect(await res.json()).toEqual({ challenge: 'c-123' });
  });

  it("Slack's retry of an event gets a 200 and is not processed again; the retry headers are logged", async () => {
    expect((await postSlack(envelope)).status).toBe(200);
    const retry = await postSlack(envelope, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect(retry.status).toBe(200);
    expect(runs.slack).toBe(1);
    const logged = lines.find((l) => l.msg?.includes('duplicate delivery') && l.obj.provider === 'slack');
    expect(logged?.obj).toMatchObject({ key: 'Ev0001', slackRetryNum: 1, slackRetryReason: 'http_timeout' });
  });

  it('rejects a forged or stale signature', async () => {
    const forged = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)), 'x-slack-signature': 'v0=00' },
      body: JSON.stringify(envelope),
    });
    expect(forged.status).toBe(401);
    expect((await postSlack({ ...envelope, event_id: 'Ev0002' }, {}, Math.floor(Date.now() / 1000) - 301)).status).toBe(401);
  });
});

describe('Stripe events', () => {
  it('a redelivered event gets 200 and is processed once; a failed one is processed on the retry', async () => {
    const event = { id: 'evt_0001', object: 'event', type: 'invoice.paid', data: { object: { id: 'in_1', fail: true } } };
    expect((await postStripe(event)).status).toBe(500);
    const retried = await postStripe(event);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ received: true });
    const duplicate = await postStripe(event);
    expect(duplicate.status).toBe(200);
    expect(runs.stripe).toBe(2);
    expect(lines.some((l) => l.obj.provider === 'stripe' && l.obj.stripeEventType === 'invoice.paid' && l.msg?.includes('duplicate'))).toBe(true);
  });

  it('a forged signature never reaches dedup', async () => {
    const res = await fetch(`${base}/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body: '{"id":"evt_x"}',
    });
    expect(res.status).toBe(400);
  });
});

describe('Standard Webhooks', () => {
  it('the same webhook-id is processed once and answered 200 every time', async () => {
    expect((await postStandard('msg_0001', { type: 'user.created' })).status).toBe(200);
    expect((await postStandard('msg_0001', { type: 'user.created' })).status).toBe(200);
    expect((await postStandard('msg_0002', { type: 'user.created' })).status).toBe(200);
    expect(runs.standard).toBe(2);
  });
});
