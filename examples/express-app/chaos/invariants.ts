// The promises checked after a scenario's drain, from the provider stand-ins' recordings
// and the database, and the figures the report shows.
//
// What a customer received for an inbound SMS is the TwiML of the delivery Twilio acted on
// plus every SMS the app sent through the Messages API. Which delivery Twilio acts on when
// it delivered twice is Twilio's business, so the reply must come exactly once in both
// views: Twilio acting on the first answer, and on the retry's answer.
import { texts } from '../src/domain/messages.js';
import { judgeCarrierBlock, refused, type CarrierBlockFigures, type CarrierBlockRecord } from './carrier-block.js';
import type { Delivery, DeliveryStatus } from './deliver.js';
import type { ExitRecord } from './cluster.js';
import type { FaultWindow } from './faults.js';
import type { DeliveredAlert, HealthSample } from './observer.js';
import type { ChaosEvent, ExpectedText } from './traffic.js';

/** An SMS the fake Twilio accepted through the Messages API. */
export interface SentSms {
  readonly to: string;
  readonly from: string | undefined;
  readonly body: string;
  readonly at: number;
  /** Its last status at Twilio: `undelivered`/`failed` mean the carrier refused it (it did not arrive). */
  readonly status?: string;
}

/** What the database says after the drain. */
export interface DatabaseState {
  /** Slack `event_id`s with a stored signal. */
  readonly slackSignals: ReadonlySet<string>;
  /** Work still waiting when the scenario's drain ended: outbox rows, inbox rows, deliveries, spool (judged after the final drain). */
  readonly backlog: Readonly<Record<string, number>>;
}

/** Everything a scenario left behind. */
export interface ScenarioRecord {
  readonly name: string;
  readonly description: string;
  readonly start: number;
  readonly trafficEnd: number;
  readonly drainEnd: number;
  readonly windows: readonly FaultWindow[];
  readonly events: readonly ChaosEvent[];
  readonly deliveries: readonly Delivery[];
  /** Messages API sends during the scenario and its drain. */
  readonly sent: readonly SentSms[];
  readonly alerts: readonly DeliveredAlert[];
  readonly samples: readonly HealthSample[];
  readonly exits: readonly ExitRecord[];
  readonly database: DatabaseState;
  readonly instances: readonly string[];
  /** Carrier blocks of the sender during the scenario (`sender_blocked`). */
  readonly carrierBlocks?: readonly CarrierBlockRecord[];
  /** How many times the app's Stripe handler ran to its end, per event id (from the instances' logs, the whole run). */
  readonly stripeRuns?: ReadonlyMap<string, number>;
}

/** The figures of one scenario. */
export interface ScenarioFigures {
  readonly name: string;
  readonly description: string;
  readonly durationSec: number;
  readonly faults: ReadonlyArray<{ kind: string; target: string; startSec: number; endSec: number }>;
  readonly events: Record<string, number>;
  readonly requests: number;
  readonly duplicates: number;
  readonly providerRetries: number;
  readonly processed: number;
  readonly lost: number;
  readonly doubled: number;
  /** SMS answered inline with the real reply / with the holding text. */
  readonly inlineReplies: { readonly real: number; readonly holding: number };
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  readonly statuses: Record<string, number>;
  /** Seconds from the first fault's start to the first alert a person received (null: none). */
  readonly timeToAlertSec: number | null;
  /** Seconds from the last fault's end until every instance is ready and SMS get their real reply inline again (null: not within the run). */
  readonly timeToRecoverSec: number | null;
  /** How long after the last fault's end the run kept observing (the bound when not recovered). */
  readonly observedAfterFaultSec: number;
  readonly alerts: readonly DeliveredAlert[];
  /** Health probes that did not pass during the scenario, by what they said (readiness status, or `check:status`). */
  readonly health: Record<string, number>;
  readonly backlogAfterDrain: Readonly<Record<string, number>>;
  /** The figures of each carrier block (halt, pages, requests during the block, queued texts delivered after). */
  readonly carrierBlocks?: readonly CarrierBlockFigures[];
  readonly violations: readonly string[];
}

const ok = (status: DeliveryStatus) => typeof status === 'number' && status >= 200 && status < 300;
const key = (t: ExpectedText) => `${t.to}|${t.from}|${t.body}`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function countBy<T>(items: readonly T[], by: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(by(item), (out.get(by(item)) ?? 0) + 1);
  return out;
}

/** Expected vs received per (to, from, body): what was lost and what was doubled. */
function compare(expected: Map<string, number>, received: Map<string, number>): { lost: number; doubled: number; lostKeys: string[]; doubledKeys: string[] } {
  let lost = 0;
  let doubled = 0;
  const lostKeys: string[] = [];
  const doubledKeys: string[] = [];
  for (const [k, n] of expected) {
    const got = received.get(k) ?? 0;
    if (got < n) {
      lost += n - got;
      lostKeys.push(k);
    }
    if (got > n) {
      doubled += got - n;
      doubledKeys.push(k);
    }
  }
  return { lost, doubled, lostKeys, doubledKeys };
}

/** Masks the phone numbers of a `to|from|body` key for the report (never a full number in a report). */
const masked = (k: string) => k.replace(/\+\d{7,15}/g, (p) => `${p.slice(0, 3)}…${p.slice(-2)}`);

/** Checks every invariant of one scenario and computes its figures. */
export function evaluate(record: ScenarioRecord): ScenarioFigures {
  const violations: string[] = [];
  const { events, deliveries, sent } = record;
  const byEvent = new Map<string, Delivery[]>();
  for (const d of deliveries) byEvent.set(d.eventId, [...(byEvent.get(d.eventId) ?? []), d]);
  // A text the carrier refused did not arrive: it counts neither as received nor as doubled.
  const sentCount = countBy(
    sent.filter((m) => !refused(m)),
    (m) => `${m.to}|${m.from ?? ''}|${m.body}`,
  );

  // Inbound SMS: the real reply exactly once, in both views of which answer Twilio used.
  const smsEvents = events.filter((e): e is Extract<ChaosEvent, { kind: 'sms' }> => e.kind === 'sms');
  const expectedReplies = countBy(smsEvents, (e) => key({ to: e.from, from: e.to, body: e.reply }));
  const views = { first: (ds: Delivery[]) => ds.find((d) => d.status === 200), retry: (ds: Delivery[]) => ds.filter((d) => d.status === 200).at(-1) };
  const outcome: Record<string, ReturnType<typeof compare>> = {};
  let holdingOnly = 0;
  for (const [view, acted] of Object.entries(views)) {
    const received = new Map(sentCount);
    for (const k of expectedReplies.keys()) received.set(k, sentCount.get(k) ?? 0);
    for (const e of smsEvents) {
      const d = acted(byEvent.get(e.id) ?? []);
      const k = key({ to: e.from, from: e.to, body: e.reply });
      for (const m of d?.messages ?? []) if (m === e.reply) received.set(k, (received.get(k) ?? 0) + 1);
    }
    const relevant = new Map([...received].filter(([k]) => expectedReplies.has(k)));
    outcome[view] = compare(expectedReplies, relevant);
    if (view === 'first') {
      holdingOnly = smsEvents.filter(
        (e) =>
          (acted(byEvent.get(e.id) ?? [])?.messages ?? []).includes(texts.holding) && (relevant.get(key({ to: e.from, from: e.to, body: e.reply })) ?? 0) === 0,
      ).length;
    }
  }
  const first = outcome.first!;
  const retry = outcome.retry!;
  if (first.lost > 0)
    violations.push(
      `inbound SMS: ${first.lost} of ${smsEvents.length} never got their real reply (${holdingOnly} only the holding text), e.g. ${first.lostKeys.slice(0, 3).map(masked).join('; ')}`,
    );
  if (first.doubled > 0) violations.push(`inbound SMS: ${first.doubled} real replies sent twice, e.g. ${first.doubledKeys.slice(0, 3).map(masked).join('; ')}`);
  if (retry.lost > first.lost) violations.push(`inbound SMS: ${retry.lost - first.lost} more would get no real reply had Twilio acted on the retry's answer`);
  if (retry.doubled > first.doubled)
    violations.push(`inbound SMS: ${retry.doubled - first.doubled} more would get the real reply twice had Twilio acted on the retry's answer`);

  // Missed calls: the business's text exactly once; never the generic fail-safe for a live business.
  const callEvents = events.filter((e): e is Extract<ChaosEvent, { kind: 'call' }> => e.kind === 'call');
  // Per caller and business (an existing customer may call twice): n calls want n texts.
  const callKeys = countBy(callEvents, (e) => key(e.text));
  const calls = compare(callKeys, sentCount);
  let failsafes = 0;
  let callersUntexted = 0;
  let callersTwice = 0;
  // The CallSids of the callers never texted (to find them in the instances' logs).
  const untextedCalls: string[] = [];
  // And of the callers of a live business who got the generic text.
  const genericCalls: string[] = [];
  for (const [k, n] of callKeys) {
    const own = sentCount.get(k) ?? 0;
    const generic = sentCount.get(`${k.slice(0, k.lastIndexOf('|'))}|${texts.failsafe}`) ?? 0;
    failsafes += Math.min(n, generic);
    if (generic > 0) genericCalls.push(...callEvents.filter((e) => key(e.text) === k).map((e) => e.id));
    // Texted at all (the business's text or the generic one): a call with neither is lost.
    callersUntexted += Math.max(0, n - own - generic);
    callersTwice += Math.max(0, own + generic - n);
    if (n > own + generic) untextedCalls.push(...callEvents.filter((e) => key(e.text) === k).map((e) => e.id));
  }
  if (callersUntexted > 0)
    violations.push(`missed calls: ${callersUntexted} of ${callEvents.length} never texted back at all (calls ${untextedCalls.slice(0, 4).join(', ')})`);
  if (failsafes > 0)
    violations.push(
      `missed calls: ${failsafes} of ${callEvents.length} to a live business answered with the generic fail-safe text (${calls.lost} never got the business's own text; calls ${genericCalls.slice(0, 4).join(', ')})`,
    );
  if (callersTwice > 0) violations.push(`missed calls: ${callersTwice} extra texts to callers (a call texted back twice: business text and/or fail-safe)`);

  // Urgent jobs: the owner's text, exactly once each.
  const urgent = smsEvents.flatMap((e) => (e.urgent === undefined ? [] : [e.urgent]));
  const owners = compare(countBy(urgent, key), sentCount);
  if (owners.lost > 0) {
    const lostOwnerTexts = new Set(owners.lostKeys);
    const messages = smsEvents.filter((e) => e.urgent !== undefined && lostOwnerTexts.has(key(e.urgent))).map((e) => e.id);
    violations.push(`urgent jobs: ${owners.lost} of ${urgent.length} owner texts never delivered (inbound messages ${messages.slice(0, 4).join(', ')})`);
  }
  if (owners.doubled > 0) violations.push(`urgent jobs: ${owners.doubled} owner texts sent twice`);

  // Anything else the customers of this scenario were sent (politeError, a stray holding text...).
  const phones = new Set([...smsEvents.map((e) => e.from), ...callEvents.map((e) => e.text.to)]);
  const known = new Set([...expectedReplies.keys(), ...callEvents.map((e) => key(e.text)), ...callEvents.map((e) => key({ ...e.text, body: texts.failsafe }))]);
  const stray = sent.filter((m) => phones.has(m.to) && !known.has(`${m.to}|${m.from ?? ''}|${m.body}`));
  if (stray.length > 0)
    violations.push(
      `customers got ${stray.length} unexpected texts: ${[...countBy(stray, (m) => m.body.slice(0, 60))].map(([b, n]) => `${n}x "${b}"`).join('; ')}`,
    );

  // Slack events stored once (a unique index makes twice impossible), Stripe acknowledged.
  const slackEvents = events.filter((e) => e.kind === 'slack');
  const slackLost = slackEvents.filter((e) => !record.database.slackSignals.has(e.id)).length;
  if (slackLost > 0) violations.push(`Slack events: ${slackLost} of ${slackEvents.length} never stored`);
  // Stripe events processed exactly once: Stripe retries a delivery that got no 2xx (a
  // SIGKILL cut it, a 503), so a cut delivery is no loss as long as a retry gets it through;
  // what must hold is one run of the handler per event, whichever delivery ran it.
  const stripeEvents = events.filter((e) => e.kind === 'stripe');
  const stripeRunsOf = (id: string) => record.stripeRuns?.get(id) ?? 0;
  const stripeLost = record.stripeRuns === undefined ? 0 : stripeEvents.filter((e) => stripeRunsOf(e.id) === 0).length;
  const stripeTwice = record.stripeRuns === undefined ? 0 : stripeEvents.filter((e) => stripeRunsOf(e.id) > 1).length;
  if (stripeLost > 0) violations.push(`Stripe events: ${stripeLost} of ${stripeEvents.length} never processed (after Stripe's retries)`);
  if (stripeTwice > 0) violations.push(`Stripe events: ${stripeTwice} of ${stripeEvents.length} processed more than once`);
  const unacknowledged = events.filter((e) => !(byEvent.get(e.id) ?? []).some((d) => ok(d.status)));
  if (unacknowledged.length > 0)
    violations.push(
      `${unacknowledged.length} events never acknowledged with a 2xx: ${[...countBy(unacknowledged, (e) => e.kind)].map(([k, n]) => `${n} ${k}`).join(', ')}`,
    );

  // Webhook answers.
  const statuses = countBy(deliveries, (d) => String(d.status));
  const errors5xx = deliveries.filter((d) => typeof d.status === 'number' && d.status >= 500);
  if (errors5xx.length > 0)
    violations.push(
      `webhooks answered 5xx ${errors5xx.length} times: ${[...countBy(errors5xx, (d) => `${d.provider} ${d.status}`)].map(([k, n]) => `${n}x ${k}`).join(', ')}`,
    );
  const refused4xx = deliveries.filter((d) => typeof d.status === 'number' && d.status >= 400 && d.status < 500);
  if (refused4xx.length > 0)
    violations.push(
      `valid signed webhooks answered 4xx ${refused4xx.length} times (a provider retries or gives up): ${[...countBy(refused4xx, (d) => `${d.provider} ${d.status}`)].map(([k, n]) => `${n}x ${k}`).join(', ')}`,
    );
  const timeouts = deliveries.filter((d) => d.status === 'timeout');
  if (timeouts.length > 0) {
    // Which instance and when (seconds from the scenario's start), to set against the fault windows and the instance logs.
    const where = timeouts.slice(0, 12).map((d) => `${d.provider} ${d.role} on ${d.instance} at +${((d.startedAt - record.start) / 1000).toFixed(1)} s`);
    violations.push(
      `webhooks timed out ${timeouts.length} times (Twilio 15 s, Slack 3 s): ${[...countBy(timeouts, (d) => d.provider)].map(([k, n]) => `${n}x ${k}`).join(', ')} (${where.join('; ')})`,
    );
  }

  // Every fault visible: an alert to a person, or health saying so.
  for (const w of record.windows) {
    const alerted = record.alerts.some((a) => a.at >= w.start && a.at <= w.end + 60_000);
    const health = record.samples.some(
      (s) =>
        s.at >= w.start &&
        s.at <= w.end + 5000 &&
        (s.ready !== 200 || (s.notPassing?.length ?? 0) > 0) &&
        (!w.kind.startsWith('instance') || s.instance === w.target),
    );
    if (!alerted && !health) violations.push(`fault ${w.kind} (${w.target}) was invisible: no alert delivered and no health check reported it`);
  }

  // No crash but the killed instance; a SIGTERM ends cleanly.
  for (const exit of record.exits) {
    if (!exit.expected) violations.push(`${exit.instance} crashed (exit code ${exit.code}, signal ${exit.signal})`);
    else if (exit.signal === null && exit.code !== 0) violations.push(`${exit.instance} ended its graceful shutdown with exit code ${exit.code}`);
  }

  // A load balancer needs a backend: seconds with no instance ready.
  const bySecond = new Map<number, boolean>();
  for (const s of record.samples) {
    const sec = Math.floor(s.at / 1000);
    bySecond.set(sec, (bySecond.get(sec) ?? false) || s.ready === 200);
  }
  const dark = [...bySecond.values()].filter((anyReady) => !anyReady).length;
  if (dark > 0) violations.push(`readiness: no instance was ready for ${dark} s (a load balancer would have had no backend)`);

  // The carrier blocks the sender: one page, only probes, queued texts delivered after, opt-outs kept.
  const carrierBlocks = (record.carrierBlocks ?? []).map((block) => {
    const judged = judgeCarrierBlock(block, events, sent, record.alerts);
    violations.push(...judged.violations);
    return judged.figures;
  });

  // Figures.
  const latencies = deliveries
    .filter((d) => typeof d.status === 'number')
    .map((d) => d.endedAt - d.startedAt)
    .sort((a, b) => a - b);
  const smsDeliveries = deliveries.filter((d) => d.provider === 'twilio_sms' && d.status === 200);
  const eventById = new Map(events.map((e) => [e.id, e]));
  const realInline = smsDeliveries.filter((d) => {
    const e = eventById.get(d.eventId);
    return e?.kind === 'sms' && d.messages.includes(e.reply);
  }).length;
  const holdingInline = smsDeliveries.filter((d) => d.messages.includes(texts.holding)).length;
  const faultStart = Math.min(...record.windows.map((w) => w.start));
  const faultEnd = Math.max(...record.windows.map((w) => w.end));
  const firstAlert = record.alerts.find((a) => a.at >= faultStart);
  const processed =
    smsEvents.length -
    first.lost +
    (callEvents.length - callersUntexted) +
    (slackEvents.length - slackLost) +
    (record.stripeRuns === undefined
      ? stripeEvents.filter((e) => (byEvent.get(e.id) ?? []).some((d) => ok(d.status))).length
      : stripeEvents.length - stripeLost);
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  return {
    name: record.name,
    description: record.description,
    durationSec: seconds(record.drainEnd - record.start),
    faults: record.windows.map((w) => ({ kind: w.kind, target: w.target, startSec: seconds(w.start - record.start), endSec: seconds(w.end - record.start) })),
    events: Object.fromEntries(countBy(events, (e) => e.kind)),
    requests: deliveries.length,
    duplicates: deliveries.filter((d) => d.role === 'dup_concurrent' || d.role === 'dup_after').length,
    providerRetries: deliveries.filter((d) => d.role === 'provider_retry').length,
    processed,
    lost: first.lost + callersUntexted + owners.lost + slackLost + stripeLost,
    doubled: first.doubled + callersTwice + owners.doubled + stripeTwice,
    inlineReplies: { real: realInline, holding: holdingInline },
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
    statuses: Object.fromEntries(statuses),
    timeToAlertSec: firstAlert === undefined ? null : seconds(firstAlert.at - faultStart),
    timeToRecoverSec: recoveryTime(record, faultEnd, eventById),
    observedAfterFaultSec: seconds(record.drainEnd - faultEnd),
    alerts: record.alerts.filter((a) => a.at >= record.start),
    health: Object.fromEntries(
      countBy(
        record.samples.flatMap((s) => [...(s.ready === 200 ? [] : [`ready ${s.ready}`]), ...(s.notPassing ?? [])]),
        (finding) => finding,
      ),
    ),
    backlogAfterDrain: record.database.backlog,
    ...(carrierBlocks.length === 0 ? {} : { carrierBlocks }),
    violations,
  };
}

/**
 * From the last fault's end: the first moment after which every probe found every
 * instance ready and every inbound SMS got its real reply inline. Null when bad
 * observations go on until the end of what was observed.
 */
function recoveryTime(record: ScenarioRecord, faultEnd: number, eventById: Map<string, ChaosEvent>): number | null {
  const badProbes = record.samples.filter((s) => s.at >= faultEnd && s.ready !== 200).map((s) => s.at);
  const badReplies = record.deliveries
    .filter((d) => {
      if (d.startedAt < faultEnd || d.provider !== 'twilio_sms') return false;
      const e = eventById.get(d.eventId);
      return e?.kind === 'sms' && !(d.status === 200 && d.messages.includes(e.reply));
    })
    .map((d) => d.startedAt);
  // Still failing at the end of what was observed (probes and a trickle of traffic run
  // through the drain): not recovered within the run.
  const lastProbe = Math.max(...record.samples.map((s) => s.at));
  const lastSms = Math.max(...record.deliveries.filter((d) => d.provider === 'twilio_sms').map((d) => d.startedAt));
  if (badProbes.some((t) => t >= lastProbe - 2000) || badReplies.some((t) => t >= lastSms)) return null;
  const bad = [...badProbes, ...badReplies];
  if (bad.length === 0) return 0;
  return Math.round((Math.max(...bad) + 1000 - faultEnd) / 100) / 10;
}
