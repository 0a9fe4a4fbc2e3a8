// The OpenAI-compatible extractor, with the real `openai` SDK against a local server that
// speaks the Chat Completions wire format: replies understood through the model, and every
// way the provider fails (500s, timeouts, answers that are not the JSON asked for) falling
// back to the deterministic rules, with OPENAI_FAILURE raised once per streak.
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BreakerRegistry, createSafeCall, silentLogger } from '@hardening/core';
import { eventually, startFakeOpenAI, type FakeChatRequest, type FakeOpenAI } from '@hardening/test-support';
import { loadConfig } from '../../src/config/config.js';
import { buildContext } from '../../src/context.js';
import { createOpenAIExtractor, openAIExtractorFromEnv } from '../../src/domain/openai-extractor.js';
import { recordingAlerts } from '../jobs/support/alerts.js';
import { captureLogger } from '../jobs/support/logs.js';

/** A model stand-in: reads the SMS and answers as a good model would. */
function understand(request: FakeChatRequest): string {
  const sms = request.messages.find((m) => m.role === 'user')?.content ?? '';
  const system = request.messages.find((m) => m.role === 'system')?.content ?? '';
  const answer = {
    businessName: null as string | null,
    serviceArea: null as string | null,
    confirmation: null as boolean | null,
    urgent: /water everywhere|no heat/i.test(sms),
  };
  if (system.includes('name of their business')) answer.businessName = sms.match(/called (.+?)(?:,|$)/)?.[1] ?? null;
  if (system.includes('which area')) answer.serviceArea = sms.match(/around (.+?)(?: and|$)/)?.[1] ?? null;
  if (system.includes('confirm')) answer.confirmation = /go for it|sounds good/i.test(sms) ? true : /hold off/i.test(sms) ? false : null;
  return JSON.stringify(answer);
}

describe('OpenAI extractor (real SDK, fake Chat Completions server)', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ respond: understand, models: ['gpt-4o-mini'] });
  });
  afterEach(() => {
    fake.clearFaults();
    fake.clearRequests();
    fake.respond(understand);
  });
  afterAll(async () => {
    await fake?.close();
  });

  function setup(overrides: { timeoutMs?: number; clock?: { now(): number } } = {}) {
    const logger = captureLogger();
    const { alerts, alertsOf, resolvesOf } = recordingAlerts();
    // Short waits between attempts so the failure paths run in milliseconds; a breaker
    // that stays closed, so every extraction reaches the provider.
    const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger, defaults: { backoff: { initialDelayMs: 5 }, breaker: false } });
    const extractor = createOpenAIExtractor({
      client: new OpenAI({ apiKey: fake.apiKey, baseURL: fake.baseURL }),
      model: 'gpt-4o-mini',
      safeCall,
      alerts,
      logger,
      timeoutMs: overrides.timeoutMs ?? 2000,
      ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
    });
    return { extractor, logger, alerts, alertsOf, resolvesOf };
  }

  it('understands free-form replies through the model, in JSON mode', async () => {
    const { extractor } = setup();
    expect(await extractor.extract('business_name', 'hiya mate, we are called Ace Plumbing & Heating, cheers')).toEqual({
      businessName: 'Ace Plumbing & Heating',
      urgent: false,
    });
    expect(await extractor.extract('service_area', 'mostly around North Springfield and the valley')).toEqual({
      serviceArea: 'North Springfield',
      urgent: false,
    });
    expect(await extractor.extract('confirmation', 'yeah go for it')).toEqual({ confirmation: true, urgent: false });
    expect(await extractor.extract('confirmation', 'hmm')).toEqual({ confirmation: undefined, urgent: false });
    expect(await extractor.extract('customer_message', 'there is water everywhere in the kitchen')).toEqual({ urgent: true });

    const sent = fake.completions[0]!;
    expect(sent.model).toBe('gpt-4o-mini');
    expect(sent.responseFormat).toBe('json_object');
    expect(sent.body.temperature).toBe(0);
    expect(sent.request.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(sent.messages[1]!.content).toBe('hiya mate, we are called Ace Plumbing & Heating, cheers');
  });

  it('an emergency keyword counts even when the model misses it', async () => {
    const { extractor } = setup();
    fake.respond(() => JSON.stringify({ businessName: null, serviceArea: null, confirmation: null, urgent: false }));
    expect(await extractor.extract('customer_message', 'the pipe burst under the sink')).toEqual({ urgent: true });
  });

  it('provider 500s: each extraction falls back to the deterministic rules; 5 in a row raise OPENAI_FAILURE once; a success resolves it', async () => {
    const { extractor, logger, alertsOf, resolvesOf } = setup();
    fake.fail({ status: 500, times: 1000 });
    for (let i = 0; i < 7; i++) {
      expect(await extractor.extract('business_name', "It's Bob's Electrics")).toEqual({ businessName: "Bob's Electrics", urgent: false });
    }
    // Each extraction tried twice (a 500 is transient): 14 requests.
    expect(fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(14);
    await eventually(() => alertsOf('OPENAI_FAILURE').length === 1);
    expect(alertsOf('OPENAI_FAILURE')[0]!.message).toMatchObject({ severity: 'HIGH', resourceId: 'openai' });
    expect(logger.lines.filter((l) => l.msg === 'OpenAI extraction failed; using the deterministic extractor')).toHaveLength(7);

    fake.clearFaults();
    expect(await extractor.extract('business_name', 'we are called Bright Sparks')).toEqual({ businessName: 'Bright Sparks', urgent: false });
    await eventually(() => resolvesOf('OPENAI_FAILURE').length === 1);
    expect(alertsOf('OPENAI_FAILURE')).toHaveLength(1);
  });

  it('a provider that never answers is abandoned at the timeout and the deterministic answer used', async () => {
    const { extractor, alertsOf } = setup({ timeoutMs: 150 });
    fake.fail({ hang: true, times: 20 });
    for (let i = 0; i < 5; i++) {
      expect(await extractor.extract('customer_message', 'Urgent: no hot water since this morning')).toEqual({ urgent: true });
    }
    expect(fake.completions).toHaveLength(0); // no answer was ever read
    await eventually(() => alertsOf('OPENAI_FAILURE').length === 1);
  });

  it('an answer that is not the JSON asked for is not paid for twice: one request, then the fallback', async () => {
    const { extractor, logger } = setup();
    fake.respond(() => 'Sure! The business is called Ace.');
    expect(await extractor.extract('business_name', 'we are Ace Plumbing')).toEqual({ businessName: 'Ace Plumbing', urgent: false });
    fake.respond(() => JSON.stringify({ businessName: 'Ace' })); // urgent missing
    expect(await extractor.extract('business_name', 'we are Ace Plumbing')).toEqual({ businessName: 'Ace Plumbing', urgent: false });
    fake.respond(() => ({ content: '{"businessName": "Ac', finishReason: 'length' }));
    expect(await extractor.extract('business_name', 'we are Ace Plumbing')).toEqual({ businessName: 'Ace Plumbing', urgent: false });
    expect(fake.requests).toHaveLength(3);
    expect(logger.text()).toMatch(/not JSON/);
    expect(logger.text()).toMatch(/does not match the schema/);
  });

  it('failures spread over more than 15 minutes do not alert', async () => {
    let now = Date.parse('2026-03-01T09:00:00Z');
    const { extractor, alertsOf } = setup({ clock: { now: () => now } });
    fake.fail({ status: 503, times: 1000 });
    for (let i = 0; i < 8; i++) {
      await extractor.extract('business_name', 'we are Ace');
      now += 4 * 60_000; // one failure every 4 minutes: never 5 within 15 minutes
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alertsOf('OPENAI_FAILURE')).toHaveLength(0);
  });

  it('a caller that gives up is not a provider failure', async () => {
    const { extractor, alertsOf, logger } = setup();
    fake.fail({ hang: true, times: 10 });
    for (let i = 0; i < 6; i++) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      expect(await extractor.extract('business_name', 'we are Ace', controller.signal)).toEqual({ businessName: 'Ace', urgent: false });
    }
    expect(logger.lines.at(-1)?.fields.consecutiveFailures).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alertsOf('OPENAI_FAILURE')).toHaveLength(0);
  });

  it('a wrong API key (401) falls back too, and is not retried', async () => {
    const { alerts } = recordingAlerts();
    const extractor = openAIExtractorFromEnv({
      apiKey: 'sk-wrong',
      baseURL: fake.baseURL,
      model: 'gpt-4o-mini',
      safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }),
      alerts,
      logger: silentLogger,
    });
    expect(await extractor.extract('confirmation', 'yes')).toEqual({ confirmation: true, urgent: false });
    expect(fake.requests.map((r) => r.status)).toEqual([401]);
  });

  it('OPENAI_API_KEY switches the app to it, at OPENAI_BASE_URL with OPENAI_MODEL', async () => {
    const config = loadConfig({
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_MODEL: 'gpt-4o-mini',
      PGLITE_DATA_DIR: 'memory://',
      LOG_LEVEL: 'silent',
    });
    const built = await buildContext(config, { logger: silentLogger, spoolFile: `/tmp/openai-extractor-${process.pid}.jsonl` });
    try {
      expect(built.ctx.extractor.name).toBe('openai');
      expect(built.ctx.processing.extractor).toBe(built.ctx.extractor);
      expect(await built.ctx.extractor.extract('business_name', 'we are called Ace Drains')).toEqual({ businessName: 'Ace Drains', urgent: false });
      expect(fake.completions).toHaveLength(1);
    } finally {
      await built.close();
    }
  }, 90_000);
});
