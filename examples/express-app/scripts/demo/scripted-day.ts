// A scripted day of the reference app, on the embedded default (PGlite in a temporary
// folder, in-process queue) with local servers standing in for Twilio, Slack and Stripe:
// the real SDKs inside the app talk to them, and every webhook is signed as the provider
// signs it. See scripts/demo.ts for the command, and test/e2e/demo.test.ts for its smoke test.
import type { FakeTwilioMessage } from '@hardening/test-support';
import { texts } from '../../src/domain/messages.js';
import { stuckClientDetectors } from '../../src/domain/stuck-clients.js';
import { checkoutCompleted } from '../../test/e2e/support/events.js';
import { levels } from '../../test/e2e/support/log-capture.js';
import { callSid, messageSid } from '../../test/e2e/support/phones.js';
import { adminPhone, startTestApp, type HttpReply } from '../../test/e2e/support/test-app.js';
import { Timeline } from './timeline.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the timeline goes. @default console.log */
  readonly write?: (line: string) => void;
}

/** What the day produced, for the smoke test. */
export interface DemoResult {
  readonly lines: readonly string[];
  /** SMS the (fake) Twilio accepted, operator alerts included. */
  readonly smsSent: number;
  /** Duplicate webhook deliveries answered without processing. */
  readonly duplicatesAbsorbed: number;
  readonly breakerTransitions: readonly string[];
  /** Alert posts in the Slack alerts channel. */
  readonly slackAlerts: readonly string[];
  /** Alert SMS to the operator's phone. */
  readonly operatorSms: readonly string[];
  /** Every person's full number used in the script (none may appear in `lines`). */
  readonly people: readonly string[];
}

const dave = '+15125550142';
const customer = '+15125550177';
const neighbour = '+15125550188';
const sue = '+15125550199';
const stranger = '+15125550166';

/** The demo's last line: where a newcomer goes from here. */
export const nextTry =
  'Next, try it yourself: `pnpm start`, then in another terminal `pnpm sim sms +15550001111 "Hi"` (the README shows the whole conversation).';

/** Plays the day and returns what happened. Starts and stops everything it needs. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const timeline = new Timeline(options.write ?? ((line) => console.log(line)));
  const app = await startTestApp({ label: 'demo', storageOptions: { pgliteOnDisk: true }, env: { LOG_LEVEL: 'info' } });
  const breakerTransitions: string[] = [];
  let duplicatesAbsorbed = 0;
  let seenSms = 0;
  let seenSlack = 0;
  let seenLogs = 0;

  const stopWatching = app.ctx.breakers.onStateChange((change) => {
    const line = `${change.name}: ${change.from} -> ${change.to}`;
    breakerTransitions.push(line);
    timeline.say('breaker', `${line}${change.to === 'open' ? ' (calls refused until a probe succeeds)' : ''}`);
  });

  /** Prints what providers received since the last call: SMS on Twilio, posts on Slack, notable log lines. */
  const delivered = () => {
    for (const message of app.providers.twilio.messages.slice(seenSms)) timeline.say('twilio', describeSms(message));
    seenSms = app.providers.twilio.messages.length;
    for (const post of app.providers.slack.messages.slice(seenSlack)) timeline.say('slack', `${post.channel}: ${slackText(post.args)}`);
    seenSlack = app.providers.slack.messages.length;
    for (const record of app.logs.records.slice(seenLogs)) {
      if (record.level >= levels.warn && !/job failed; retrying|failed: attempts|refused: circuit open/.test(record.msg ?? '')) {
        timeline.say('log', `${record.level >= levels.error ? 'ERROR' : 'WARN'} ${record.msg ?? ''}`);
      }
    }
    seenLogs = app.logs.records.length;
  };
  const settle = async () => {
    await app.drainOutbox();
    await new Promise((r) => setTimeout(r, 150)); // alerts are sent in the background
    delivered();
  };
  const owner = async (from: string, body: string, who = 'owner' as const): Promise<HttpReply> => {
    timeline.say(who, `${from} texts the assistant: "${body}"`);
    const reply = await app.sms({ from, to: app.systemNumber, body });
    timeline.say('app', `replies in the webhook answer: "${reply.messages.join(' ') || '(nothing)'}"`);
    return reply;
  };

  try {
    timeline.plain('Missed-Call Assistant: a scripted day');
    timeline.plain(`  app on ${app.url} (embedded PGlite in ${app.storage.dir}, in-process queue)`);
    timeline.plain(`  local Twilio ${app.providers.twilio.url}, Slack ${app.providers.slack.url}; webhooks signed as each provider signs them`);

    timeline.heading('Morning: a plumber signs up by SMS');
    timeline.at('07:58');
    const pool = await app.addPoolNumbers(2);
    timeline.say('operator', `stocks the number pool with ${pool.join(', ')}`);
    timeline.at('08:00');
    await owner(dave, 'Hi');
    timeline.at('08:01');
    await owner(dave, "It's Dave's Plumbing");
    timeline.at('08:02');
    const allocated = await owner(dave, 'We serve Springfield');
    const number = /assistant number is (\+\d+)/.exec(allocated.messages[0] ?? '')?.[1];
    if (number === undefined) throw new Error('the demo expected a number to be allocated');
    timeline.at('08:03');
    const pay = await owner(dave, 'YES');
    const clientId = decodeURIComponent(/client_reference_id=([^\s&]+)/.exec(pay.messages[0] ?? '')?.[1] ?? '');
    timeline.at('08:09');
    const paid = await app.stripeEvent(checkoutCompleted(clientId));
    timeline.say('stripe', `checkout.session.completed -> ${paid.status}: payment active, Dave moves on to the test call`);
    await settle();
    timeline.at('08:12');
    timeline.say('owner', `Dave calls ${number} from his phone (test call)`);
    await app.callStatus({ callSid: callSid(), from: dave, to: number, status: 'completed' });
    const state = (await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } })).onboardingState;
    timeline.say('app', `onboarding state: ${state}`);
    await settle();

    timeline.heading('Mid-morning: a missed call, and Twilio retrying its webhooks');
    timeline.at('10:15');
    const call = callSid();
    timeline.say('customer', `${customer} calls Dave's Plumbing; nobody picks up (no-answer)`);
    await app.callStatus({ callSid: call, from: customer, to: number, status: 'no-answer' });
    await settle();
    timeline.at('10:15');
    for (let i = 0; i < 2; i++) {
      const retry = await app.callStatus({ callSid: call, from: customer, to: number, status: 'no-answer' });
      duplicatesAbsorbed++;
      timeline.say('twilio', `retries the same status callback -> ${retry.status}, answered from the dedup record, nothing sent again`);
    }
    await settle();
    timeline.at('10:17');
    const sid = messageSid();
    timeline.say('customer', `${customer} texts back: "URGENT: burst pipe in the kitchen"`);
    const first = await app.sms({ from: customer, to: number, body: 'URGENT: burst pipe in the kitchen', messageSid: sid });
    timeline.say('app', `replies in the webhook answer: "${first.messages.join(' ')}"`);
    await settle();
    const again = await app.sms({ from: customer, to: number, body: 'URGENT: burst pipe in the kitchen', messageSid: sid });
    duplicatesAbsorbed++;
    timeline.say(
      'twilio',
      `retries the same SMS webhook -> ${again.status}, ${again.body === first.body ? 'the same TwiML' : 'A DIFFERENT ANSWER'}; the owner is not alerted twice`,
    );
    await settle();

    timeline.at('11:00');
    timeline.say('customer', `${stranger} calls the assistant's own number by mistake; nobody answers it`);
    await app.callStatus({ callSid: callSid(), from: stranger, to: app.systemNumber, status: 'no-answer' });
    await settle();

    timeline.heading('Lunchtime: Twilio has an outage');
    // Demo-sized settings (production: 1 s backoff, 30 s cooldown) so the day fits in seconds.
    app.ctx.safeCall.configure('twilio_sms', { backoff: { initialDelayMs: 100 }, breaker: { failureThreshold: 3, cooldownMs: 1000 } });
    app.providers.twilio.fail({ status: 503, times: 3, match: (r) => r.method === 'POST' && r.path.endsWith('/Messages.json') });
    timeline.at('12:30');
    timeline.say('note', 'Twilio answers 503 Service Unavailable to every send');
    timeline.say('customer', `${neighbour} calls Dave's Plumbing; busy`);
    await app.callStatus({ callSid: callSid(), from: neighbour, to: number, status: 'busy' });
    const down = await app.drainOutbox();
    const waiting = await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: neighbour } });
    timeline.say('app', `outbox: ${down.retrying} SMS waiting (status ${waiting.status}, next attempt scheduled); nothing lost, nothing sent twice`);
    delivered();
    timeline.at('12:45');
    await new Promise((r) => setTimeout(r, 1100));
    timeline.say('note', 'Twilio is back; the outbox worker runs its next round');
    await app.ctx.db.prisma.outboundMessage.update({ where: { id: waiting.id }, data: { nextAttemptAt: new Date() } });
    await settle();

    timeline.heading('Afternoon: an electrician stalls before paying');
    timeline.at('14:00');
    for (const body of ['Hello', "Sue's Electric", 'We serve Shelbyville', 'yes']) await owner(sue, body);
    const stalled = await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { phone: sue } });
    timeline.at('19:00');
    // Five hours pass without a payment (the demo moves the state's start back instead).
    await app.ctx.db.prisma.client.update({ where: { id: stalled.id }, data: { stateEnteredAt: new Date(Date.now() - 5 * 3_600_000) } });
    timeline.say('monitor', `runtime monitor round: ${stalled.businessName} has waited 5 h in ${stalled.onboardingState} (limit 2 h)`);
    // One round of the checks the runtime monitor runs every 5 minutes.
    for (const detector of stuckClientDetectors(app.ctx.db.prisma, { alerts: app.ctx.alerts })) await detector.check();
    await settle();

    timeline.heading('What the operator received');
    const slackAlerts = app.providers.slack.messages.filter((m) => m.channel === app.providers.slackAlertsChannel).map((m) => slackText(m.args));
    const operatorSms = app.smsTo(adminPhone).map((m) => m.body);
    for (const text of slackAlerts) timeline.say('slack', `${app.providers.slackAlertsChannel}: ${text}`);
    for (const body of operatorSms) timeline.say('twilio', `SMS to the operator: ${body}`);
    if (slackAlerts.length + operatorSms.length === 0) timeline.say('note', 'no alerts');
    const stats = await app.ctx.alerts.getAlertStats({ hours: 24 });

    timeline.heading('Summary');
    const smsSent = app.providers.twilio.messages.length;
    timeline.plain(
      `  SMS accepted by Twilio: ${smsSent} (${app.providers.twilio.requests.filter((r) => r.status === 503).length} sends refused during the outage, retried, none duplicated)`,
    );
    timeline.plain(`  duplicate webhook deliveries absorbed: ${duplicatesAbsorbed}`);
    timeline.plain(`  breaker changes: ${breakerTransitions.join('; ') || 'none'}`);
    timeline.plain(`  alerts: ${stats.delivered} delivered, ${stats.suppressed} suppressed, ${stats.failed} failed`);
    const live = app.smsTo(dave).some((m) => m.body === texts.live("Dave's Plumbing"));
    timeline.plain(`  Dave's Plumbing: ${live ? 'live, told by SMS' : 'NOT LIVE'}`);
    timeline.plain('');
    timeline.plain(nextTry);
    return {
      lines: timeline.lines,
      smsSent,
      duplicatesAbsorbed,
      breakerTransitions,
      slackAlerts,
      operatorSms,
      people: [dave, customer, neighbour, sue, stranger],
    };
  } finally {
    stopWatching();
    await app.close();
  }
}

function describeSms(message: FakeTwilioMessage): string {
  return `SMS to ${message.to} from ${message.from ?? message.messagingServiceSid}: "${message.body}"`;
}

function slackText(args: Record<string, unknown>): string {
  const text = typeof args.text === 'string' ? args.text : JSON.stringify(args.blocks ?? args.attachments ?? '');
  return text.replace(/\s+/g, ' ').slice(0, 240);
}
