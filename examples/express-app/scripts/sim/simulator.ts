// `pnpm sim`: sends the running development app the webhooks Twilio, Slack and Stripe would
// send, signed exactly as they sign them (the Twilio SDK's getExpectedTwilioSignature, the
// Stripe SDK's generateTestHeaderString, Slack's v0 HMAC), then prints the app's reply and
// the SMS the app sent (or, without Twilio, would have sent) because of it.
import { randomBytes } from 'node:crypto';
import { devSessionFileFor, readDevSession, type DevSession } from '../../src/dev/dev-session.js';
import { toE164 } from '../../src/domain/phone.js';
import { checkoutCompleted, slackMessage } from '../../test/e2e/support/events.js';
import { callSid, messageSid } from '../../test/e2e/support/phones.js';
import { slackHeaders, stripeSignature, twilioCallStatusParams, twilioSignature } from '../../test/e2e/support/signing.js';

/** The commands and their arguments, as `pnpm sim help` prints them. */
export const usage = `Usage (with the app running: pnpm start):
  pnpm sim sms <from> <text> [--to <number>]   an SMS from <from> to the assistant (default: the system number)
  pnpm sim call <from> <to> [status]           a call's status callback (default no-answer: a missed call)
  pnpm sim stripe <client id | payment link>   checkout.session.completed for that client
  pnpm sim slack <text> [--channel <id>]       a message event from the Slack Events API
Options: --wait <ms> (how long to watch for SMS the app sends), --session <file> (default .data/dev-session.json,
  written by pnpm start beside PGLITE_DATA_DIR)`;

/** Where the simulator writes (stdout by default). */
export type Write = (line: string) => void;

/** A failure the user can act on: printed without a stack trace, exit code 1. */
export class SimUsageError extends Error {
  override readonly name = 'SimUsageError';
}

interface OutboxItem {
  readonly id: string;
  readonly to: string;
  readonly purpose: string;
  readonly status: string;
  readonly body: string;
  readonly createdAt: string;
}

/** Splits `--name value` options from positional arguments. */
function parseArgs(argv: readonly string[]): { positional: string[]; options: Map<string, string> } {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined) throw new SimUsageError(`${arg} needs a value`);
      options.set(arg.slice(2), value);
      i++;
    } else positional.push(arg);
  }
  return { positional, options };
}

function phoneArg(value: string | undefined, what: string): string {
  const phone = toE164(value);
  if (phone === undefined)
    throw new SimUsageError(`${what} must be a phone number such as +15550001111 (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`);
  return phone;
}

function need<T>(value: T | undefined, variable: string): T {
  if (value === undefined)
    throw new SimUsageError(`the app has no ${variable}, so it refuses these webhooks; unset it in development to get a generated one, or set it for both`);
  return value;
}

/** The texts inside `<Message>` elements of a TwiML reply. */
export function twimlMessages(body: string): string[] {
  const decode = (text: string) =>
    text.replace(/&lt;|&gt;|&quot;|&apos;|&amp;/g, (e) => ({ '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'", '&amp;': '&' })[e]!);
  return [...body.matchAll(/<Message[^>]*>([\s\S]*?)<\/Message>/g)].map((m) => decode(m[1]!));
}

/** A tiny client of the running app. */
class AppClient {
  constructor(private readonly session: DevSession) {}

  async post(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.session.url}${path}`, { method: 'POST', headers, body }).catch((error: unknown) => {
      throw new SimUsageError(`the app at ${this.session.url} does not answer (${String((error as Error).cause ?? error)}): is \`pnpm start\` still running?`);
    });
    return { status: response.status, body: await response.text() };
  }

  /** The newest outbox items, oldest first. */
  async outbox(): Promise<OutboxItem[]> {
    // An app that does not answer is reported by the command's own request, with advice.
    const response = await fetch(`${this.session.url}/api/admin/outbox?limit=50`, { headers: { Authorization: `Bearer ${this.session.adminToken}` } }).catch(
      () => undefined,
    );
    if (response?.ok !== true) return [];
    const { items } = (await response.json()) as { items: OutboxItem[] };
    return items.reverse();
  }

  /**
   * The outbox items queued since `before` was taken. By identity, not by time: a text the
   * previous command queued a moment earlier is not this command's (a time window with
   * slack for clock skew counted it twice when commands ran back to back).
   */
  async outboxSince(before: ReadonlySet<string>): Promise<OutboxItem[]> {
    return (await this.outbox()).filter((item) => !before.has(item.id));
  }

  /** A form POST signed as Twilio signs it: over the public URL and every parameter. */
  twilio(path: string, params: Record<string, string>) {
    const token = need(this.session.twilioAuthToken, 'Twilio auth token (TWILIO_AUTH_TOKEN)');
    const signature = twilioSignature(token, `${this.session.publicUrl.replace(/\/+$/, '')}${path}`, params);
    return this.post(
      path,
      { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature, 'User-Agent': 'TwilioProxy/1.1' },
      new URLSearchParams(params).toString(),
    );
  }
}

/**
 * Waits up to `waitMs` for SMS the app queues because of the request, and prints each
 * once it left the outbox (sent, or printed by the development stand-in).
 */
async function printSent(client: AppClient, since: ReadonlySet<string>, waitMs: number, write: Write): Promise<OutboxItem[]> {
  const deadline = Date.now() + waitMs;
  let items: OutboxItem[] = [];
  for (;;) {
    items = await client.outboxSince(since);
    const settled = items.length > 0 && items.every((item) => item.status !== 'pending' && item.status !== 'sending');
    if (settled || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (items.length === 0) write('   sent: nothing besides the reply');
  for (const item of items) write(`   sent: SMS to ${item.to} (${item.purpose}, ${item.status}): "${item.body}"`);
  return items;
}

/** What one command did, for the e2e test. */
export interface SimResult {
  readonly status: number;
  /** The reply's texts (TwiML messages), or its raw body for JSON replies. */
  readonly reply: string[];
  readonly sent: readonly OutboxItem[];
}

/**
 * Runs one `pnpm sim` command against the app described by the session file.
 *
 * @throws SimUsageError - bad arguments, no running app, or a webhook the app cannot accept.
 */
export async function runSim(argv: readonly string[], write: Write = (line) => console.log(line)): Promise<SimResult> {
  const { positional, options } = parseArgs(argv);
  const [command, ...rest] = positional;
  if (command === undefined || command === 'help') {
    write(usage);
    return { status: 0, reply: [], sent: [] };
  }
  const sessionFile = options.get('session') ?? devSessionFileFor(process.env.PGLITE_DATA_DIR ?? '.data/pglite');
  const session = readDevSession(sessionFile);
  if (session === undefined)
    throw new SimUsageError(`no running development app found (${sessionFile} is missing): start it with \`pnpm start\` in another terminal`);
  const client = new AppClient(session);
  const wait = (fallback: number) => Number(options.get('wait') ?? fallback);
  const since = new Set((await client.outbox()).map((item) => item.id));
  switch (command) {
    case 'sms': {
      const from = phoneArg(rest[0], 'the sender');
      const text = rest.slice(1).join(' ');
      if (text === '') throw new SimUsageError('say what the SMS says: pnpm sim sms +15550001111 "Hi"');
      const to = phoneArg(options.get('to') ?? session.systemNumber, '--to');
      const sid = messageSid();
      write(`-> SMS ${from} -> ${to}: "${text}"`);
      const reply = await client.twilio('/sms', {
        ToCountry: 'US',
        SmsMessageSid: sid,
        NumMedia: '0',
        SmsSid: sid,
        SmsStatus: 'received',
        Body: text,
        FromCountry: 'US',
        To: to,
        NumSegments: '1',
        MessageSid: sid,
        AccountSid: session.twilioAccountSid ?? '',
        From: from,
        ApiVersion: '2010-04-01',
      });
      const messages = twimlMessages(reply.body);
      write(`<- ${reply.status} reply: ${messages.length === 0 ? reply.body : messages.map((m) => `"${m}"`).join(' ')}`);
      const sent = await printSent(client, since, wait(1500), write);
      const clientId = /client_reference_id=([^\s&"]+)/.exec(messages.join(' '))?.[1];
      if (clientId !== undefined) write(`   next: pay with \`pnpm sim stripe ${decodeURIComponent(clientId)}\``);
      return { status: reply.status, reply: messages, sent };
    }
    case 'call': {
      const from = phoneArg(rest[0], 'the caller');
      const to = phoneArg(rest[1], 'the number called');
      const status = rest[2] ?? 'no-answer';
      write(`-> call ${from} -> ${to}: ${status}`);
      const reply = await client.twilio(
        '/api/twilio/status',
        twilioCallStatusParams({ callSid: callSid(), from, to, status, accountSid: session.twilioAccountSid ?? '' }),
      );
      write(`<- ${reply.status}`);
      const sent = await printSent(client, since, wait(5000), write);
      return { status: reply.status, reply: [reply.body], sent };
    }
    case 'stripe': {
      const target = rest[0];
      if (target === undefined) throw new SimUsageError('name the client: pnpm sim stripe <client id or payment link>');
      const clientId = /client_reference_id=([^\s&]+)/.exec(target)?.[1] ?? target;
      const secret = need(session.stripeWebhookSecret, 'Stripe webhook secret (STRIPE_WEBHOOK_SECRET)');
      const raw = JSON.stringify(checkoutCompleted(decodeURIComponent(clientId)), null, 2);
      write(`-> Stripe checkout.session.completed for client ${decodeURIComponent(clientId)}`);
      const reply = await client.post(
        '/webhooks/stripe',
        {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Stripe-Signature': stripeSignature(secret, raw),
        },
        raw,
      );
      write(`<- ${reply.status} ${reply.body}`);
      const sent = await printSent(client, since, wait(5000), write);
      return { status: reply.status, reply: [reply.body], sent };
    }
    case 'slack': {
      const text = rest.join(' ');
      if (text === '') throw new SimUsageError('say what the message says: pnpm sim slack "Burst pipe at 12 Elm St"');
      const secret = need(session.slackSigningSecret, 'Slack signing secret (SLACK_SIGNING_SECRET)');
      const raw = JSON.stringify(slackMessage(text, { channel: options.get('channel') ?? `C${randomBytes(4).toString('hex').toUpperCase()}` }));
      write(`-> Slack message: "${text}"`);
      const reply = await client.post(
        '/slack/events',
        { 'Content-Type': 'application/json', 'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...slackHeaders(secret, raw) },
        raw,
      );
      write(`<- ${reply.status} ${reply.body}`);
      const sent = await printSent(client, since, wait(3000), write);
      return { status: reply.status, reply: [reply.body], sent };
    }
    default:
      throw new SimUsageError(`unknown command ${JSON.stringify(command)}\n${usage}`);
  }
}
