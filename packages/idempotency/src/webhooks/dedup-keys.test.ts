import { describe, expect, it } from 'vitest';
import { isWebhookKeyMissingError } from '../errors/webhook-key-missing-error.js';
import { createMemoryStore } from '../memory-store.js';
import { silentLogger } from '@hardening/core';
import { slackDedupKey, slackRetryInfo } from './slack.js';
import { standardWebhookDedupKey } from './standard-webhooks.js';
import { stripeDedupKey } from './stripe.js';
import { twilioDedupKey } from './twilio.js';
import { createWebhookDedup } from './webhook-dedup.js';

describe('dedup keys', () => {
  const token = { 'i-twilio-idempotency-token': 'tok' };
  it.each([
    ['inbound SMS', {}, { MessageSid: 'SM1', SmsStatus: 'received' }, 'auto', 'sms:SM1'],
    ['inbound SMS with the token', token, { MessageSid: 'SM1', SmsStatus: 'received' }, 'auto', 'sms:SM1'],
    ['message status callback', {}, { MessageSid: 'SM1', MessageStatus: 'delivered' }, 'auto', 'msg:SM1:delivered'],
    ['call webhook with the token', token, { CallSid: 'CA1', CallStatus: 'in-progress' }, 'auto', 'token:tok'],
    ['call status without the token', {}, { CallSid: 'CA1', CallStatus: 'completed' }, 'auto', 'call:CA1:completed'],
    ['explicit voice-status', token, { CallSid: 'CA1', CallStatus: 'busy' }, 'voice-status', 'call:CA1:busy'],
    ['explicit sms', {}, { MessageSid: 'SM9' }, 'sms', 'sms:SM9'],
    ['token only', token, {}, 'auto', 'token:tok'],
  ] as const)('Twilio %s', (_label, headers, params, kind, key) => {
    expect(twilioDedupKey({ headers, params }, kind)).toBe(key);
  });

  it('Twilio requests without any identifier are refused clearly', () => {
    expect(() => twilioDedupKey({ headers: {}, params: { Body: 'x' } })).toThrow(expect.objectContaining({ code: 'WEBHOOK_DEDUP_KEY_MISSING' }));
    expect(() => twilioDedupKey({ headers: {}, params: { CallSid: 'CA1' } }, 'voice-status')).toThrow('CallStatus is missing');
    expect(() => twilioDedupKey({ headers: {}, params: {} }, 'bogus' as never)).toThrow(TypeError);
  });

  it('Slack, Stripe and Standard Webhooks keys', () => {
    expect(slackDedupKey({ type: 'event_callback', event_id: 'Ev1' })).toBe('Ev1');
    expect(slackRetryInfo({ 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' })).toEqual({ retryNum: 2, retryReason: 'http_error' });
    expect(slackRetryInfo({})).toEqual({ retryNum: 0, retryReason: undefined });
    expect(stripeDedupKey({ id: 'evt_1' })).toBe('evt_1');
    expect(standardWebhookDedupKey({ 'webhook-id': 'msg_1' })).toBe('msg_1');
    for (const derive of [() => slackDedupKey({ type: 'event_callback' }), () => stripeDedupKey({} as never), () => standardWebhookDedupKey({})]) {
      expect(derive).toThrow(expect.objectContaining({ code: 'WEBHOOK_DEDUP_KEY_MISSING' }));
      try {
        derive();
      } catch (error) {
        expect(isWebhookKeyMissingError(error)).toBe(true);
      }
    }
  });

  it("Stripe records outlive Stripe's 3 days of retries by default", async () => {
    let now = 0;
    const clock = { now: () => now };
    const dedup = createWebhookDedup({ store: createMemoryStore({ clock }), logger: silentLogger, clock });
    let runs = 0;
    await dedup.stripe({ id: 'evt_1' }, () => {
      runs++;
      return Promise.resolve();
    });
    now += 3.5 * 86_400_000;
    expect(
      (
        await dedup.stripe({ id: 'evt_1' }, () => {
          runs++;
          return Promise.resolve();
        })
      ).duplicate,
    ).toBe(true);
    await dedup.standardWebhooks({ headers: { 'webhook-id': 'm1' } }, () => {
      runs++;
      return Promise.resolve();
    });
    now += 86_400_001;
    expect(
      (
        await dedup.standardWebhooks({ headers: { 'webhook-id': 'm1' } }, () => {
          runs++;
          return Promise.resolve();
        })
      ).duplicate,
    ).toBe(false);
    expect(runs).toBe(3);
  });

  it('a non-Twilio duplicate during processing is answered 409 with Retry-After, so the provider retries later', async () => {
    const dedup = createWebhookDedup({ store: createMemoryStore(), logger: silentLogger });
    let open!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = dedup.stripe({ id: 'evt_2' }, () => new Promise<void>((resolve) => ((open = resolve), entered())));
    await inside; // the first delivery holds the claim
    const during = await dedup.stripe({ id: 'evt_2' }, async () => {});
    expect(during).toMatchObject({ status: 409, duplicate: true, inProgress: true });
    expect(during.headers['retry-after']).toMatch(/^\d+$/);
    open();
    expect((await first).duplicate).toBe(false);
  });

  it('rejects a handler result it cannot send', async () => {
    const dedup = createWebhookDedup({ store: createMemoryStore(), logger: silentLogger });
    await expect(dedup.stripe({ id: 'evt_3' }, () => Promise.resolve(42 as never))).rejects.toThrow('Expected the webhook handler to return');
  });
});
