// Issue 14: the Twilio classifier decides safeCall's retries and breaker, shown through the
// real `twilio` SDK against the local Twilio fake (real HTTP, real RestException).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BreakerRegistry, isCircuitOpenError } from '@hardening/circuit-breaker';
import { startFakeHttpServer, startFakeTwilio, twilioClientFor, type FakeHttpServer, type FakeTwilio } from '@hardening/test-support';
import { isRetriesExhaustedError } from '../errors/retries-exhausted-error.js';
import { silentLogger } from '../logger.js';
import { createSafeCall } from '../safe-call/create-safe-call.js';
import type { RetryEvent } from '../safe-call/options.js';
import { classifyTwilioError } from './twilio.js';

let fake: FakeTwilio;
let registry: BreakerRegistry;
let safeCall: ReturnType<typeof createSafeCall>;
let retries: RetryEvent[];

beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.clearFaults();
  fake.clearRequests();
  registry = new BreakerRegistry();
  retries = [];
  // Waits of 1 ms then 2 ms: the retry decisions are what is under test, not the waits.
  safeCall = createSafeCall({ registry, logger: silentLogger, defaults: { backoff: { initialDelayMs: 1 } }, hooks: { onRetry: (e) => retries.push(e) } });
});

const creations = () => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json')).length;
const send = (to = '+15551230001', client = fake.client()) =>
  safeCall('twilio_sms', () => client.messages.create({ to, from: '+15557650000', body: 'Your appointment is confirmed.' }));
const failure = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the send to fail');
    },
    (error: unknown) => error,
  );

describe('per-recipient terminal codes: not retried, the breaker untouched', () => {
  it.each([21211, 21610, 21614, 30005, 30006])('five sends failing with %i make five requests and leave the sender usable', async (code) => {
    fake.failWithCode(code, { times: 5 });
    for (let i = 0; i < 5; i++) expect(await failure(send())).toMatchObject({ code, status: 400 });
    expect(creations()).toBe(5); // one request per send
    expect(retries).toHaveLength(0);
    expect(registry.get('twilio_sms').state).toBe('closed');
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
  });

  it("the fake's own validation of a malformed number (21211) is classified the same", async () => {
    const error = await failure(send('+1'));
    expect(classifyTwilioError(error)).toMatchObject({ code: 21211, scope: 'recipient', kind: 'terminal' });
    expect(creations()).toBe(1);
  });
});

describe('per-recipient transient codes: retried a bounded number of times, the breaker untouched', () => {
  it('30003 on every attempt: three requests (attempts), then RetriesExhaustedError; the breaker stays closed', async () => {
    fake.failWithCode(30003, { times: 9 });
    for (let i = 0; i < 3; i++) {
      const error = await failure(send());
      expect(isRetriesExhaustedError(error) && error.reason).toBe('attempts');
      expect((error as Error).cause).toMatchObject({ code: 30003 });
    }
    expect(creations()).toBe(9); // bounded: 3 attempts per send, never more
    expect(registry.get('twilio_sms').state).toBe('closed'); // 9 failures, none counted
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
  });

  it('30008 once: the retry delivers', async () => {
    fake.failWithCode(30008);
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
    expect(creations()).toBe(2);
    expect(retries).toHaveLength(1);
  });

  it("the class's own bound (maxAttempts) can cap a send", async () => {
    fake.failWithCode(30003, { times: 5 });
    const { maxAttempts } = classifyTwilioError(30003);
    const client = fake.client();
    const error = await failure(
      safeCall('twilio_sms', () => client.messages.create({ to: '+15551230001', from: '+15557650000', body: 'hi' }), { attempts: maxAttempts }),
    );
    expect(isRetriesExhaustedError(error) && error.attempts).toBe(2);
    expect(creations()).toBe(2);
  });
});

describe('sender-systemic and account codes: not retried, counted by the breaker', () => {
  it.each([30007, 30034, 30032, 21408])('%i three times opens the breaker; the fourth send never reaches Twilio', async (code) => {
    fake.failWithCode(code, { times: 10 });
    for (let i = 0; i < 3; i++) expect(await failure(send())).toMatchObject({ code });
    expect(creations()).toBe(3); // not retried
    expect(retries).toHaveLength(0);
    expect(registry.get('twilio_sms').state).toBe('open');
    expect(isCircuitOpenError(await failure(send()))).toBe(true);
    expect(creations()).toBe(3);
  });

  it('20003 from a wrong auth token (answered by the fake itself) opens the breaker', async () => {
    const wrong = twilioClientFor(fake.url, fake.accountSid, 'not-the-token');
    for (let i = 0; i < 3; i++) expect(await failure(send(undefined, wrong))).toMatchObject({ code: 20003, status: 401 });
    expect(fake.requests).toHaveLength(3);
    expect(registry.get('twilio_sms').state).toBe('open');
  });
});

describe('20429: transient, retried with backoff and counted', () => {
  it('two 429s: exponential backoff between attempts, then delivers', async () => {
    // Twilio's RestException keeps no response headers, so a Retry-After never reaches
    // safeCall from the SDK: the backoff (here 1 ms, then 2 ms) is what spaces the retries.
    fake.failWithCode(20429, { times: 2, headers: { 'Retry-After': '30' } });
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
    expect(creations()).toBe(3);
    expect(retries.map((r) => r.delayMs)).toEqual([1, 2]);
  });

  it('429s on every attempt are counted: three of them open the breaker', async () => {
    fake.failWithCode(20429, { times: 3 });
    const error = await failure(send());
    expect(isRetriesExhaustedError(error)).toBe(true);
    expect(creations()).toBe(3);
    expect(retries.map((r) => r.delayMs)).toEqual([1, 2]);
    expect(registry.get('twilio_sms').state).toBe('open');
  });
});

describe('status callbacks: the ErrorCode Twilio posts classifies the same way', () => {
  let receiver: FakeHttpServer;
  beforeAll(async () => {
    receiver = await startFakeHttpServer({ route: () => ({ status: 204 }) });
  });
  afterAll(() => receiver.close());

  it.each([
    [30007, 'sender', 'systemic'],
    [30003, 'recipient', 'transient'],
    [30006, 'recipient', 'terminal'],
  ] as const)('an undelivered callback with ErrorCode %i is %s / %s', async (code, scope, kind) => {
    const message = await send();
    await fake.sendStatus(message.sid, 'undelivered', { errorCode: code, url: `${receiver.url}/twilio/status` });
    const posted = receiver.requests.at(-1)!.body as Record<string, string>;
    expect(posted.ErrorCode).toBe(String(code));
    expect(classifyTwilioError(posted.ErrorCode)).toMatchObject({ code, scope, kind });
  });
});
