// The judge of the scenario "carrier blocks the sender" (chaos/carrier-block.ts, through
// chaos/invariants.ts's evaluate) on hand-made records: each broken promise is caught
// (no halt, two pages, a retry storm, a queued text never delivered, a text to a recipient
// who texted STOP), and a block where every promise held passes.
import { describe, expect, it } from 'vitest';
import type { CarrierBlockRecord } from '../../chaos/carrier-block.js';
import { evaluate, type ScenarioRecord, type SentSms } from '../../chaos/invariants.js';
import type { ChaosEvent } from '../../chaos/traffic.js';
import { texts } from '../../src/domain/messages.js';

const t0 = 1_000_000;
const sender = '+18005550001';
const business = 'Ace Pipes';
const callers = ['+12025550111', '+12025550112', '+12025550113'];
const stopper = '+12025550199';
const blockStart = t0 + 3000;
const blockEnd = t0 + 123_000;
const haltedAt = t0 + 10_000;
const probeIntervalMs = 30_000;

const call = (id: string, to: string, at: number): ChaosEvent => ({
  kind: 'call',
  id,
  sentAt: at,
  text: { to, from: sender, body: texts.missedCall(business) },
});
const sms = (to: string, at: number, status = 'queued', body = texts.missedCall(business)): SentSms => ({ to, from: sender, body, at, status });

/** A block where every promise held: three refused before the halt, probes only, all delivered after, nothing to the STOP sender. */
function good(): { events: ChaosEvent[]; sent: SentSms[]; block: CarrierBlockRecord } {
  const events = callers.map((c, i) => call(`CA${i}`, c, blockStart + 1000 + i * 2000));
  const sent: SentSms[] = [
    ...callers.map((c, i) => sms(c, blockStart + 1500 + i * 2000, 'undelivered')),
    // Probes at +30 s and +60 s after the halt (refused), the stopper's text held back.
    sms(callers[0]!, haltedAt + 30_000, 'undelivered'),
    sms(callers[1]!, haltedAt + 60_000, 'undelivered'),
    // After the block: the probe (delivered), then the rest.
    sms(callers[0]!, blockEnd + 5000, 'delivered'),
    sms(callers[1]!, blockEnd + 6000),
    sms(callers[2]!, blockEnd + 6000),
  ];
  const block: CarrierBlockRecord = {
    sender,
    start: blockStart,
    end: blockEnd,
    probeIntervalMs,
    halt: { haltedAt, resumedAt: blockEnd + 5100, resumedBy: 'probe' },
    optOuts: [{ phone: stopper, stopAt: t0 + 60_000 }],
  };
  return { events, sent, block };
}

function record(
  parts: { events: ChaosEvent[]; sent: SentSms[]; block: CarrierBlockRecord },
  alerts: ScenarioRecord['alerts'] = [
    { at: haltedAt + 500, via: 'slack', text: 'Sending from +180…01 halted: Twilio 30007' },
    { at: haltedAt + 600, via: 'sms', text: 'HIGH Sending from +180…01 halted: Twilio 30007' },
  ],
): ScenarioRecord {
  return {
    name: 'carrier-blocks-sender',
    description: 'hand-made',
    start: t0,
    trafficEnd: t0 + 133_000,
    drainEnd: t0 + 160_000,
    windows: [{ kind: 'sender_blocked', target: 'sender', start: blockStart, end: blockEnd }],
    events: parts.events,
    deliveries: parts.events.map((e) => ({
      eventId: e.id,
      provider: 'twilio_voice',
      role: 'first',
      instance: 'app-1',
      startedAt: e.sentAt,
      endedAt: e.sentAt + 50,
      status: 200,
      messages: [],
    })),
    sent: parts.sent,
    alerts,
    samples: [{ at: t0 + 140_000, instance: 'app-1', ready: 200 }],
    exits: [],
    database: { slackSignals: new Set(), backlog: {} },
    instances: ['app-1'],
    carrierBlocks: [parts.block],
  };
}

describe('chaos invariants: the carrier blocks the sender', () => {
  it('a block where every promise held: no violation; refused texts count neither as received nor as doubled; the figures say what happened', () => {
    const figures = evaluate(record(good()));
    expect(figures.violations).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(figures.doubled).toBe(0);
    expect(figures.carrierBlocks).toEqual([
      {
        requestsDuringBlock: 5,
        beforeHalt: 3,
        afterHalt: 2,
        probesAllowed: 4,
        haltAfterSec: 7,
        resumeAfterSec: 5.1,
        resumedBy: 'probe',
        pages: { sms: 1, slack: 1 },
        queuedDuringBlock: 3,
        deliveredAfterBlock: 3,
        optOuts: 1,
      },
    ]);
  });

  it('a sender never halted, or still halted at the end, is a violation', () => {
    const never = good();
    expect(evaluate(record({ ...never, block: { ...never.block, halt: undefined } })).violations.join('\n')).toMatch(/never halted/);
    const stuck = good();
    expect(evaluate(record({ ...stuck, block: { ...stuck.block, halt: { haltedAt, resumedAt: null, resumedBy: null } } })).violations.join('\n')).toMatch(
      /still halted/,
    );
  });

  it('a page per instance (or none) is a violation: one page wanted', () => {
    const twice = evaluate(
      record(good(), [
        { at: haltedAt + 600, via: 'sms', text: 'HIGH Sending from +180…01 halted: Twilio 30007' },
        { at: haltedAt + 900, via: 'sms', text: 'HIGH Sending from +180…01 halted: Twilio 30007' },
      ]),
    );
    expect(twice.violations.join('\n')).toMatch(/paged 2 time\(s\) by SMS/);
    expect(evaluate(record(good(), [{ at: haltedAt, via: 'slack', text: 'something else' }])).violations.join('\n')).toMatch(/paged 0 time\(s\)/);
  });

  it('every queued message retried on its own while halted is a retry storm', () => {
    const storm = good();
    for (let i = 0; i < 6; i++) storm.sent.push(sms(callers[i % 3]!, haltedAt + 20_000 + i * 10_000, 'undelivered'));
    const violations = evaluate(record(storm)).violations.join('\n');
    expect(violations).toMatch(/8 requests from the halted sender during the block, at most 4 probes allowed/);
  });

  it('a text queued during the block and never delivered after it is a violation (a refused one does not count)', () => {
    const lost = good();
    lost.sent = lost.sent.filter((m) => !(m.to === callers[2] && m.at > blockEnd));
    const figures = evaluate(record(lost));
    expect(figures.violations.join('\n')).toMatch(/1 of 3 texts queued during the block never delivered/);
    expect(figures.lost).toBe(1);
  });

  it('a text to a recipient after their STOP is a violation; the confirmation of the STOP is not; a STOP never acknowledged is', () => {
    const confirmed = good();
    confirmed.sent.push(sms(stopper, t0 + 60_500, 'queued', texts.optedOut));
    expect(evaluate(record(confirmed)).violations).toEqual([]);
    const texted = good();
    texted.sent.push(sms(stopper, blockEnd + 7000));
    expect(evaluate(record(texted)).violations.join('\n')).toMatch(/1 text\(s\) reached a recipient who had texted STOP/);
    const unanswered = good();
    expect(evaluate(record({ ...unanswered, block: { ...unanswered.block, optOuts: [{ phone: stopper, stopAt: undefined }] } })).violations.join('\n')).toMatch(
      /never acknowledged/,
    );
  });
});
