// The chaos harness's judge (chaos/invariants.ts) on hand-made records: it must catch each
// broken promise, and pass a scenario where every promise held. The harness itself runs
// with `pnpm test:chaos`, not here.
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../chaos/deliver.js';
import { evaluate, type ScenarioRecord, type SentSms } from '../../chaos/invariants.js';
import type { ChaosEvent } from '../../chaos/traffic.js';
import { texts } from '../../src/domain/messages.js';

const t0 = 1_000_000;
const business = { name: 'Ace Pipes', owner: '+15550002001', number: '+18005550001' };
const customer = '+12025550101';
const caller = '+12025550102';

function sms(id: string, urgent = false): ChaosEvent {
  return {
    kind: 'sms',
    id,
    sentAt: t0 + 1000,
    from: customer,
    to: business.number,
    reply: urgent ? texts.customerUrgentAck(business.name) : texts.customerAck(business.name),
    ...(urgent ? { urgent: { to: business.owner, from: business.number, body: texts.ownerUrgent(customer, `URGENT ${id}`) } } : {}),
    newPhone: true,
  };
}

const call = (id: string): ChaosEvent => ({
  kind: 'call',
  id,
  sentAt: t0 + 1000,
  text: { to: caller, from: business.number, body: texts.missedCall(business.name) },
});

function delivery(eventId: string, status: Delivery['status'], messages: string[] = [], role: Delivery['role'] = 'first', at = t0 + 1000): Delivery {
  return {
    eventId,
    provider: eventId.startsWith('SM') ? 'twilio_sms' : eventId.startsWith('CA') ? 'twilio_voice' : 'slack',
    role,
    instance: 'app-1',
    startedAt: at,
    endedAt: at + 50,
    status,
    messages,
  };
}

const text = (to: string, body: string, from = business.number): SentSms => ({ to, from, body, at: t0 + 2000 });

function record(parts: Partial<ScenarioRecord>): ScenarioRecord {
  return {
    name: 'unit',
    description: 'hand-made',
    start: t0,
    trafficEnd: t0 + 20_000,
    drainEnd: t0 + 30_000,
    windows: [{ kind: 'redis_killed', target: 'redis', start: t0 + 5000, end: t0 + 10_000 }],
    events: [],
    deliveries: [],
    sent: [],
    alerts: [{ at: t0 + 6000, via: 'slack', text: 'alert' }],
    samples: [
      { at: t0 + 5500, instance: 'app-1', ready: 200, notPassing: ['redis:responseTime:warn'] },
      { at: t0 + 25_000, instance: 'app-1', ready: 200 },
    ],
    exits: [],
    database: { slackSignals: new Set(), backlog: {} },
    instances: ['app-1'],
    ...parts,
  };
}

describe('chaos invariants', () => {
  it('a scenario where every promise held has no violation, nothing lost or doubled', () => {
    const figures = evaluate(
      record({
        events: [sms('SM1'), sms('SM2', true), call('CA1'), { kind: 'slack', id: 'Ev1', sentAt: t0 }],
        deliveries: [
          delivery('SM1', 200, [texts.customerAck(business.name)]),
          delivery('SM1', 200, [texts.customerAck(business.name)], 'dup_after', t0 + 3000),
          delivery('SM2', 200, [texts.customerUrgentAck(business.name)]),
          delivery('CA1', 200),
          delivery('Ev1', 200),
        ],
        sent: [text(caller, texts.missedCall(business.name)), text(business.owner, texts.ownerUrgent(customer, 'URGENT SM2'))],
        database: { slackSignals: new Set(['Ev1']), backlog: {} },
      }),
    );
    expect(figures.violations).toEqual([]);
    expect([figures.lost, figures.doubled, figures.processed]).toEqual([0, 0, 4]);
    expect(figures.timeToAlertSec).toBe(1);
  });

  it('a holding reply never followed by the real one is lost; the real reply twice is doubled', () => {
    const lost = evaluate(record({ events: [sms('SM1')], deliveries: [delivery('SM1', 200, [texts.holding])] }));
    expect(lost.lost).toBe(1);
    expect(lost.violations.join('\n')).toMatch(/1 of 1 never got their real reply \(1 only the holding text\)/);

    const doubled = evaluate(
      record({
        events: [sms('SM1')],
        deliveries: [delivery('SM1', 200, [texts.customerAck(business.name)])],
        sent: [text(customer, texts.customerAck(business.name))],
      }),
    );
    expect(doubled.doubled).toBe(1);
    expect(doubled.violations.join('\n')).toMatch(/1 real replies sent twice/);
  });

  it('the reply must hold whichever delivery Twilio acted on: a duplicate answered with the holding text fails', () => {
    const figures = evaluate(
      record({
        events: [sms('SM1')],
        deliveries: [delivery('SM1', 200, [texts.customerAck(business.name)]), delivery('SM1', 200, [texts.holding], 'dup_after', t0 + 3000)],
      }),
    );
    expect(figures.lost).toBe(0);
    expect(figures.violations.join('\n')).toMatch(/1 more would get no real reply had Twilio acted on the retry's answer/);
  });

  it('missed calls: two calls from one customer want two texts; the generic fail-safe and silence are violations', () => {
    const twice = evaluate(
      record({
        events: [call('CA1'), call('CA2')],
        deliveries: [delivery('CA1', 200), delivery('CA2', 200)],
        sent: [text(caller, texts.missedCall(business.name)), text(caller, texts.missedCall(business.name))],
      }),
    );
    expect(twice.violations).toEqual([]);

    const wrong = evaluate(
      record({
        events: [call('CA1'), call('CA2')],
        deliveries: [delivery('CA1', 200), delivery('CA2', 200)],
        sent: [text(caller, texts.failsafe), text(caller, texts.failsafe), text(caller, texts.missedCall(business.name))],
      }),
    );
    expect(wrong.violations.join('\n')).toMatch(
      /2 of 2 to a live business answered with the generic fail-safe text \(1 never got the business's own text; calls CA1, CA2\)/,
    );
    expect(wrong.violations.join('\n')).toMatch(/1 extra texts to callers/);
    expect(wrong.lost).toBe(0);

    const silent = evaluate(record({ events: [call('CA1')], deliveries: [delivery('CA1', 200)] }));
    expect(silent.lost).toBe(1);
    expect(silent.violations.join('\n')).toMatch(/1 of 1 never texted back at all/);
  });

  it('an urgent owner text never sent, a 5xx, a crash, a dark fleet and an invisible fault are each reported', () => {
    const figures = evaluate(
      record({
        events: [sms('SM1', true)],
        deliveries: [delivery('SM1', 500), delivery('SM1', 200, [texts.customerUrgentAck(business.name)], 'provider_retry')],
        exits: [{ instance: 'app-2', at: t0 + 7000, code: 1, signal: null, expected: false }],
        alerts: [],
        samples: [
          { at: t0 + 1000, instance: 'app-1', ready: 200 },
          { at: t0 + 16_000, instance: 'app-1', ready: 503 },
        ],
      }),
    );
    const all = figures.violations.join('\n');
    expect(all).toMatch(/urgent jobs: 1 of 1 owner texts never delivered/);
    expect(all).toMatch(/webhooks answered 5xx 1 times: 1x twilio_sms 500/);
    expect(all).toMatch(/app-2 crashed \(exit code 1/);
    expect(all).toMatch(/no instance was ready for 1 s/);
    expect(all).toMatch(/fault redis_killed \(redis\) was invisible/);
    expect(figures.timeToAlertSec).toBeNull();
  });

  it('Stripe: a delivery cut by a SIGKILL and got through by a retry is no violation; an event processed twice or never is', () => {
    const stripe = (id: string, status: Delivery['status'], role: Delivery['role'], at: number): Delivery => ({
      ...delivery(id, status, [], role, at),
      provider: 'stripe',
    });
    const events: ChaosEvent[] = ['evt_cut', 'evt_twice', 'evt_never'].map((id) => ({ kind: 'stripe', id, sentAt: t0 + 1000 }));
    const figures = evaluate(
      record({
        events,
        deliveries: [
          stripe('evt_cut', 'reset', 'first', t0 + 1000),
          stripe('evt_cut', 200, 'provider_retry', t0 + 4000),
          stripe('evt_twice', 200, 'first', t0 + 1000),
          stripe('evt_twice', 200, 'dup_after', t0 + 3000),
          stripe('evt_never', 200, 'first', t0 + 1000),
        ],
        stripeRuns: new Map([
          ['evt_cut', 1],
          ['evt_twice', 2],
        ]),
      }),
    );
    const all = figures.violations.join('\n');
    expect(all).toMatch(/Stripe events: 1 of 3 never processed/);
    expect(all).toMatch(/Stripe events: 1 of 3 processed more than once/);
    expect(all).not.toMatch(/never acknowledged/);
    expect([figures.lost, figures.doubled, figures.processed, figures.providerRetries]).toEqual([1, 1, 2, 1]);
  });
});
