// The traffic of a small production deployment: inbound SMS from new and existing phones
// (customers of live businesses, and new owners texting the system number), urgent jobs
// (the owner must be texted), missed calls to live businesses, Slack events and Stripe
// events. About 30 % of events are delivered twice: half at the same time to another
// instance, half after the first answer. Bounded in time and in requests in flight.
import { randomBytes } from 'node:crypto';
import { texts } from '../src/domain/messages.js';
import { invoicePaid, slackMessage } from '../test/e2e/support/events.js';
import { callSid, messageSid, phone, slackEventId, stripeEventId } from '../test/e2e/support/phones.js';
import {
  callParams,
  deliverWithRetry,
  slackRequest,
  smsParams,
  stripeRequest,
  twilioRequest,
  type Delivery,
  type LoadBalancer,
  type Signing,
  type WireRequest,
} from './deliver.js';

/** A business that finished onboarding before the run. */
export interface LiveBusiness {
  readonly name: string;
  readonly owner: string;
  readonly number: string;
}

/** An SMS the app must send because of an event: to, from, body. */
export interface ExpectedText {
  readonly to: string;
  readonly from: string;
  readonly body: string;
}

/** One distinct event, and what it obliges the app to do. */
export type ChaosEvent =
  | {
      readonly kind: 'sms';
      readonly id: string;
      readonly sentAt: number;
      readonly from: string;
      readonly to: string;
      readonly reply: string;
      readonly urgent?: ExpectedText;
      readonly newPhone: boolean;
    }
  | { readonly kind: 'call'; readonly id: string; readonly sentAt: number; readonly text: ExpectedText }
  | { readonly kind: 'slack'; readonly id: string; readonly sentAt: number }
  | { readonly kind: 'stripe'; readonly id: string; readonly sentAt: number };

/** What a scenario's traffic produced. */
export interface TrafficLog {
  readonly events: ChaosEvent[];
  readonly deliveries: Delivery[];
}

/** Options of {@link runTraffic}. */
export interface TrafficOptions {
  readonly lb: LoadBalancer;
  readonly signing: Signing;
  readonly systemNumber: string;
  readonly businesses: readonly LiveBusiness[];
  readonly durationMs: number;
  /** Ends the traffic before `durationMs` once it returns true. */
  readonly stop?: () => boolean;
  /** New events per second. */
  readonly ratePerSec: number;
  /** Share of events delivered twice. @default 0.3 */
  readonly duplicateShare?: number;
  /** Requests in flight beyond which a tick is skipped (bounded load). @default 40 */
  readonly maxInFlight?: number;
  readonly random?: () => number;
  /** Phones already used (by earlier scenarios): new phones are new to the whole run. */
  readonly usedPhones?: Set<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Plays traffic for `durationMs`, then waits for every delivery (and duplicate) to end. */
export async function runTraffic(options: TrafficOptions): Promise<TrafficLog> {
  const { lb, signing, systemNumber, businesses, durationMs, ratePerSec } = options;
  const random = options.random ?? Math.random;
  const duplicateShare = options.duplicateShare ?? 0.3;
  const maxInFlight = options.maxInFlight ?? 40;
  const log: TrafficLog = { events: [], deliveries: [] };
  const customers = new Map<string, string[]>(); // business number -> phones seen in this scenario
  const used = options.usedPhones ?? new Set<string>();
  const freshPhone = (): string => {
    for (;;) {
      const p = phone();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  const pickCustomer = (business: LiveBusiness): { phone: string; isNew: boolean } => {
    const seen = customers.get(business.number) ?? [];
    if (seen.length > 0 && random() < 0.5) return { phone: seen[Math.floor(random() * seen.length)]!, isNew: false };
    const p = freshPhone();
    customers.set(business.number, [...seen, p]);
    return { phone: p, isNew: true };
  };
  let counter = 0;
  let inFlight = 0;

  const next = (): { event: ChaosEvent; request: WireRequest } => {
    const roll = random();
    const business = businesses[Math.floor(random() * businesses.length)]!;
    const now = Date.now();
    counter++;
    if (roll < 0.45) {
      const { phone: from, isNew } = pickCustomer(business);
      const urgent = random() < 0.25;
      const body = urgent
        ? `URGENT: water coming through the ceiling, please come (ref ${counter})`
        : `Hi, could you quote for a new kitchen tap? (ref ${counter})`;
      const sid = messageSid();
      return {
        event: {
          kind: 'sms',
          id: sid,
          sentAt: now,
          from,
          to: business.number,
          reply: urgent ? texts.customerUrgentAck(business.name) : texts.customerAck(business.name),
          ...(urgent ? { urgent: { to: business.owner, from: business.number, body: texts.ownerUrgent(from, body) } } : {}),
          newPhone: isNew,
        },
        request: twilioRequest(signing, 'twilio_sms', '/sms', smsParams(signing, { sid, from, to: business.number, body })),
      };
    }
    if (roll < 0.55) {
      const from = freshPhone();
      const sid = messageSid();
      return {
        event: { kind: 'sms', id: sid, sentAt: now, from, to: systemNumber, reply: texts.welcome, newPhone: true },
        request: twilioRequest(signing, 'twilio_sms', '/sms', smsParams(signing, { sid, from, to: systemNumber, body: 'Hi, I would like to sign up' })),
      };
    }
    if (roll < 0.75) {
      const { phone: from } = pickCustomer(business);
      const sid = callSid();
      const status = random() < 0.5 ? 'no-answer' : 'busy';
      return {
        event: { kind: 'call', id: sid, sentAt: now, text: { to: from, from: business.number, body: texts.missedCall(business.name) } },
        request: twilioRequest(signing, 'twilio_voice', '/api/twilio/status', callParams(signing, { sid, from, to: business.number, status })),
      };
    }
    if (roll < 0.9) {
      const id = slackEventId();
      return {
        event: { kind: 'slack', id, sentAt: now },
        request: slackRequest(signing, slackMessage(`Anyone free for a job on Elm Street? (ref ${counter})`, { eventId: id })),
      };
    }
    const id = stripeEventId();
    return { event: { kind: 'stripe', id, sentAt: now }, request: stripeRequest(signing, invoicePaid(id)) };
  };

  const play = async (event: ChaosEvent, request: WireRequest) => {
    const dup = random() < duplicateShare ? (random() < 0.5 ? 'dup_concurrent' : 'dup_after') : undefined;
    const target = lb.pick();
    const first = deliverWithRetry(lb, request, event.id, 'first', { instance: target });
    const copies: Array<Promise<Delivery[]>> = [first];
    // The concurrent copy goes to another instance (a provider retry after a timeout).
    if (dup === 'dup_concurrent') copies.push(deliverWithRetry(lb, request, event.id, 'dup_concurrent', { avoid: target.name }));
    if (dup === 'dup_after') {
      copies.push(
        first.then(async (done) => {
          await sleep(200 + random() * 2000);
          return deliverWithRetry(lb, request, event.id, 'dup_after', { avoid: done.at(-1)!.instance });
        }),
      );
    }
    for (const deliveries of await Promise.all(copies)) log.deliveries.push(...deliveries);
  };

  const pending: Array<Promise<void>> = [];
  const started = Date.now();
  const interval = 1000 / ratePerSec;
  for (let tick = 0; Date.now() - started < durationMs && options.stop?.() !== true; tick++) {
    if (inFlight < maxInFlight) {
      const { event, request } = next();
      log.events.push(event);
      inFlight++;
      pending.push(play(event, request).finally(() => inFlight--));
    }
    const due = started + (tick + 1) * interval;
    await sleep(Math.max(0, due - Date.now()));
  }
  await Promise.all(pending);
  return log;
}

/** A random suffix for run-wide names. */
export const runId = (): string => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * A recipient of `sender` who texts STOP while it is blocked: a fresh phone's missed call
 * to the business (its text-back is queued behind the halt), then, `gapMs` later, "STOP".
 * Its phone is not among the traffic's events: the judge checks it got nothing after.
 */
export async function optOutDuringBlock(options: {
  readonly lb: LoadBalancer;
  readonly signing: Signing;
  readonly sender: string;
  readonly usedPhones: Set<string>;
  readonly gapMs?: number;
}): Promise<{ phone: string; stopAt: number | undefined; deliveries: Delivery[] }> {
  const { lb, signing, sender } = options;
  let from = phone();
  while (options.usedPhones.has(from)) from = phone();
  options.usedPhones.add(from);
  const call = callSid();
  const called = await deliverWithRetry(
    lb,
    twilioRequest(signing, 'twilio_voice', '/api/twilio/status', callParams(signing, { sid: call, from, to: sender, status: 'no-answer' })),
    call,
    'first',
  );
  await sleep(options.gapMs ?? 3000);
  const sid = messageSid();
  const stopped = await deliverWithRetry(
    lb,
    twilioRequest(signing, 'twilio_sms', '/sms', smsParams(signing, { sid, from, to: sender, body: 'STOP' })),
    sid,
    'first',
  );
  const acknowledged = stopped.find((d) => typeof d.status === 'number' && d.status >= 200 && d.status < 300);
  return { phone: from, stopAt: acknowledged?.endedAt, deliveries: [...called, ...stopped] };
}
