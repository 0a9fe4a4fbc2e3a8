// Issue 15, a trace that follows a message: the webhook's span, the processing, the outbox
// send and Twilio's later status callback run in different requests and jobs; the rows carry
// the W3C traceparent and each step links to the one before. Real OTel SDK (in-memory
// exporter), the app on PGlite, the real Twilio SDK against the fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installOtel, type TestOtel } from '@hardening/test-support';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { texts } from '../../src/domain/messages.js';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { controlledExtractor } from '../e2e/support/extractors.js';
import { onboardClient, type OnboardedClient } from '../e2e/support/flows.js';
import { callSid, messageSid, phone } from '../e2e/support/phones.js';
import { startTestApp, type TestApp } from '../e2e/support/test-app.js';

describe('an inbound SMS traced end to end (PGlite)', () => {
  let otel: TestOtel;
  let app: TestApp;
  let client: OnboardedClient;
  const provider = controlledExtractor();

  beforeAll(async () => {
    otel = installOtel({ metrics: false });
    app = await startTestApp({
      label: 'msgtrace',
      overrides: { extractor: provider.extractor, inlineBudgetMs: 2000, jobRetryPolicy: { attempts: 3, backoffMs: 100 } },
    });
    await app.addPoolNumbers(1);
    client = await onboardClient(app, { businessName: 'Traced Plumbing' });
  });
  afterAll(async () => {
    await app?.close();
    await otel?.uninstall();
  });

  const one = (name: string, attribute: string, value: string): ReadableSpan => {
    const found = otel.spans().filter((s) => s.name === name && s.attributes[attribute] === value);
    expect(found, `${name} with ${attribute}=${value}`).toHaveLength(1);
    return found[0]!;
  };
  const linkedSpanIds = (span: ReadableSpan) => span.links.map((l) => l.context.spanId);

  it('holding reply, queued-up reply, send and delivery receipt form one chain of links', async () => {
    const customer = phone();
    const sid = messageSid();
    // Slower than the inline budget: the customer gets the holding text at once and the reply
    // travels through the outbox (sent later by the worker, receipted later still).
    provider.slow(app.ctx.inlineBudgetMs + 1500, 'customer_message');
    const answer = await app.sms({ from: customer, to: client.number, body: 'Boiler is making a banging noise', messageSid: sid });
    provider.reset();
    expect(answer.messages).toEqual([texts.holding]);
    const inbox = app.ctx.db.prisma.inboundEvent;
    await expect.poll(async () => (await inbox.findUniqueOrThrow({ where: { messageSid: sid } })).status, { timeout: 20_000 }).toBe('processed');
    const inboxRow = await inbox.findUniqueOrThrow({ where: { messageSid: sid } });

    // 1. The webhook's span is the root; the inbox row keeps its context.
    const webhook = one('twilio.sms', 'messaging.message.id', sid);
    expect(webhook.parentSpanContext).toBeUndefined();
    const { traceId } = webhook.spanContext();
    // The row was written in the webhook's trace (inside the idempotency guard's child span).
    const stored = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(inboxRow.traceparent ?? '');
    expect(stored?.[1]).toBe(traceId);
    const byId = () => new Map(otel.spans().map((s) => [s.spanContext().spanId, s]));
    const ancestry = (span: ReadableSpan | undefined): string[] =>
      span === undefined ? [] : [span.name, ...ancestry(byId().get(span.parentSpanContext?.spanId ?? ''))];
    expect(ancestry(byId().get(stored![2]!)).at(-1)).toBe('twilio.sms');

    // 2. The processing links to the row's stored context.
    await expect.poll(() => otel.spans().some((s) => s.name === 'sms.process' && s.attributes['app.inbox.id'] === inboxRow.id), { timeout: 10_000 }).toBe(true);
    const processing = one('sms.process', 'app.inbox.id', inboxRow.id);
    expect(processing.attributes['app.sms.outcome']).toBe('processed_via_outbox');
    expect(linkedSpanIds(processing)).toContain(stored![2]);
    expect(processing.links.every((l) => l.context.traceId === traceId)).toBe(true);

    // 3. The outbox row keeps the processing's context; the worker's send links to it.
    const outboxRow = await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: customer } });
    expect(outboxRow.traceparent).toContain(processing.spanContext().spanId);
    expect((await app.drainOutbox()).sent).toBe(1);
    const send = one('sms.outbox.send', 'app.outbox.id', outboxRow.id);
    expect(send.spanContext().traceId).not.toBe(traceId); // its own trace (the worker's round)...
    expect(send.links.map((l) => l.context)).toContainEqual(expect.objectContaining({ traceId, spanId: processing.spanContext().spanId })); // ...linked to the message's
    expect(send.attributes['app.outbox.outcome']).toBe('sent');
    const [sent] = app.smsTo(customer);
    expect(sent?.body).toBe(texts.customerAck('Traced Plumbing'));
    expect(send.attributes['messaging.message.id']).toBe(sent!.sid);
    // The SDK's own span of the Twilio call nests inside the send.
    const safeCallSpans = otel.spans().filter((s) => s.parentSpanContext?.spanId === send.spanContext().spanId);
    expect(safeCallSpans.length).toBeGreaterThanOrEqual(1);

    // 4. Twilio's status callback, later: linked to the send, which the row now remembers.
    const sentRow = await app.ctx.db.prisma.outboundMessage.findUniqueOrThrow({ where: { id: outboxRow.id } });
    expect(sentRow.traceparent).toContain(send.spanContext().spanId);
    expect((await app.providers.twilio.sendStatus(sent!.sid, 'delivered')).status).toBe(200);
    const receipt = one('twilio.message_status', 'messaging.message.id', sent!.sid);
    expect(receipt.attributes['app.sms.status']).toBe('delivered');
    expect(linkedSpanIds(receipt)).toEqual([send.spanContext().spanId]);

    // One chain: from the receipt back to the webhook, by the link of each step (its parent
    // where it has none), with no dead end.
    const spans = byId();
    const chain: string[] = [];
    let at: ReadableSpan | undefined = receipt;
    while (at !== undefined && chain.length < 20) {
      chain.push(at.name);
      const back: string | undefined = at.links[0]?.context.spanId ?? at.parentSpanContext?.spanId;
      at = back === undefined ? undefined : spans.get(back);
    }
    expect(chain.slice(0, 3)).toEqual(['twilio.message_status', 'sms.outbox.send', 'sms.process']);
    expect(chain.at(-1)).toBe('twilio.sms');
  });

  it('a failed processing retried by the job runner: both attempts link to the inbox row, the failed one marked ERROR, the reply sent from the retry', async () => {
    provider.reset();
    provider.failNext(1, 'customer_message');
    const customer = phone();
    const sid = messageSid();
    const answer = await app.sms({ from: customer, to: client.number, body: 'Radiator is cold upstairs', messageSid: sid });
    expect(answer.messages).toEqual([texts.holding]);
    const inbox = app.ctx.db.prisma.inboundEvent;
    await expect.poll(async () => (await inbox.findUniqueOrThrow({ where: { messageSid: sid } })).status, { timeout: 20_000 }).toBe('processed');
    const row = await inbox.findUniqueOrThrow({ where: { messageSid: sid } });
    const storedSpanId = /^00-[0-9a-f]{32}-([0-9a-f]{16})-01$/.exec(row.traceparent ?? '')?.[1];
    expect(storedSpanId).toBeDefined();
    await expect
      .poll(() => otel.spans().filter((s) => s.name === 'sms.process' && s.attributes['app.inbox.id'] === row.id).length, { timeout: 10_000 })
      .toBe(2);
    const [failed, retried] = otel
      .spans()
      .filter((s) => s.name === 'sms.process' && s.attributes['app.inbox.id'] === row.id)
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.events.map((e) => e.name)).toContain('exception');
    expect(retried!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(retried!.attributes['app.sms.outcome']).toBe('processed_via_outbox');
    for (const attempt of [failed!, retried!]) expect(linkedSpanIds(attempt)).toContain(storedSpanId);
    const outboxRow = await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: customer } });
    expect(outboxRow.traceparent).toContain(retried!.spanContext().spanId);
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(linkedSpanIds(one('sms.outbox.send', 'app.outbox.id', outboxRow.id))).toEqual([retried!.spanContext().spanId]);
  });

  it("a missed call's text-back: the send links to the voice callback's trace, the receipt to the send", async () => {
    const caller = phone();
    const sid = callSid();
    expect((await app.callStatus({ callSid: sid, from: caller, to: client.number, status: 'no-answer' })).status).toBe(200);
    const callback = one('twilio.call_status', 'app.call.sid', sid);
    expect(callback.attributes['app.call.status']).toBe('no-answer');
    expect(callback.status.code).not.toBe(SpanStatusCode.ERROR);
    const { traceId } = callback.spanContext();

    // The outbox row was written inside the callback's trace (under the idempotency span).
    const outboxRow = await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: caller, purpose: 'missed_call' } });
    const stored = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(outboxRow.traceparent ?? '');
    expect(stored?.[1]).toBe(traceId);
    expect((await app.drainOutbox()).sent).toBeGreaterThanOrEqual(1);
    const send = one('sms.outbox.send', 'app.outbox.id', outboxRow.id);
    expect(send.links.map((l) => l.context)).toContainEqual(expect.objectContaining({ traceId, spanId: stored![2] }));
    const [sent] = app.smsTo(caller);
    expect(sent?.body).toBe(texts.missedCall('Traced Plumbing'));

    // Twilio's receipt links to the send; from there the links lead back to the call.
    await app.providers.twilio.sendStatus(sent!.sid, 'delivered');
    expect(linkedSpanIds(one('twilio.message_status', 'messaging.message.id', sent!.sid))).toEqual([send.spanContext().spanId]);
  });

  it('an SMS spooled during an outage: the drain links to the span that spooled it, the processing to the drain', async () => {
    const customer = phone();
    const sid = messageSid();
    // The webhook's spooling, as the SMS route does it when the database is down (put takes
    // the active span's context).
    const outage = await trace.getTracer('test').startActiveSpan('outage webhook', async (span) => {
      await app.ctx.spool.put({
        provider: 'twilio_sms',
        receivedAt: new Date().toISOString(),
        payload: { MessageSid: sid, From: customer, To: client.number, Body: 'Water heater pilot keeps going out' },
      });
      span.end();
      return span.spanContext();
    });
    await sweepOnce(app.ctx);
    const drain = otel.spans().find((s) => s.name === 'spool.drain' && s.links.some((l) => l.context.spanId === outage.spanId));
    expect(drain, 'spool.drain linked to the spooling span').toBeDefined();
    expect(drain!.attributes['app.spool.provider']).toBe('twilio_sms');
    const inboxRow = await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } });
    expect(inboxRow.traceparent).toContain(drain!.spanContext().spanId);
    await expect.poll(() => otel.spans().some((s) => s.name === 'sms.process' && s.attributes['app.inbox.id'] === inboxRow.id), { timeout: 20_000 }).toBe(true);
    expect(linkedSpanIds(one('sms.process', 'app.inbox.id', inboxRow.id))).toContain(drain!.spanContext().spanId);
  });

  it('a status callback for a row of no stored context still gets its span, without a link', async () => {
    const customer = phone();
    const sid = messageSid();
    const answer = await app.sms({ from: customer, to: client.number, body: 'Leaking pipe under the sink', messageSid: sid });
    expect(answer.status).toBe(200);
    const row = await app.ctx.db.prisma.outboundMessage.create({
      data: { toPhone: customer, fromPhone: client.number, body: 'hand-written', purpose: 'reply' },
    });
    const drained = await app.drainOutbox();
    expect(drained.sent).toBeGreaterThanOrEqual(1);
    const sent = app.smsTo(customer).find((m) => m.body === 'hand-written')!;
    // A row written outside any span (here: by hand) has no context to link the send to.
    const send = one('sms.outbox.send', 'app.outbox.id', row.id);
    expect(send.links).toEqual([]);
    await app.providers.twilio.sendStatus(sent.sid, 'delivered');
    expect(linkedSpanIds(one('twilio.message_status', 'messaging.message.id', sent.sid))).toEqual([send.spanContext().spanId]);
  });
});
