// Delivers webhooks the way each provider does: signed with the providers' own helpers
// (the Twilio SDK's signature, Slack's v0 HMAC, the Stripe SDK's test header), through a
// load balancer that sends each request to an instance in rotation, with the providers'
// retry habits: Twilio retries once after a connection failure or its 15 s timeout, Slack
// after 3 s or a non-2xx answer (X-Slack-Retry-Num), Stripe not at once (hours later).
import { randomBytes } from 'node:crypto';
import { slackHeaders, stripeSignature, twilioSignature } from '../test/e2e/support/signing.js';
import type { AppInstance } from './cluster.js';

/** How one delivery ended: an HTTP status, or what the transport said. */
export type DeliveryStatus = number | 'refused' | 'reset' | 'timeout';

/** Why a delivery was sent. */
export type DeliveryRole = 'first' | 'dup_concurrent' | 'dup_after' | 'provider_retry';

/** One HTTP delivery of an event, as the provider saw it. */
export interface Delivery {
  readonly eventId: string;
  readonly provider: 'twilio_sms' | 'twilio_voice' | 'slack' | 'stripe';
  readonly role: DeliveryRole;
  readonly instance: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: DeliveryStatus;
  /** The `<Message>` texts of a TwiML answer. */
  readonly messages: readonly string[];
}

/** Credentials the providers sign with. */
export interface Signing {
  readonly publicBaseUrl: string;
  readonly twilioAuthToken: string;
  readonly twilioAccountSid: string;
  readonly slackSigningSecret: string;
  readonly stripeWebhookSecret: string;
}

/** What a provider sends for one delivery. */
export interface WireRequest {
  readonly provider: Delivery['provider'];
  readonly path: string;
  /** Builds headers and body afresh (a signature has a timestamp; Slack's retry has its own headers). */
  build(retryNum: number): { headers: Record<string, string>; body: string };
}

const timeouts: Record<Delivery['provider'], number> = { twilio_sms: 15_000, twilio_voice: 15_000, slack: 3_000, stripe: 30_000 };

const entities: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&apos;': "'", '&quot;': '"' };
const twimlMessages = (body: string): string[] =>
  [...body.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) => m[1]!.replace(/&lt;|&gt;|&amp;|&apos;|&quot;/g, (e) => entities[e]!));

/** Picks instances for requests: the ones whose last readiness probe passed, round robin. */
export class LoadBalancer {
  private next = 0;
  constructor(
    private readonly instances: readonly AppInstance[],
    private readonly probes: { isReady(name: string): boolean; isAlive(name: string): boolean },
  ) {}

  /**
   * An instance in rotation other than `avoid` when there is one. When none is ready the
   * balancer fails open, to the instances that still answer their probes (the harness
   * reports those seconds as a readiness violation of their own).
   */
  pick(avoid?: string): AppInstance {
    const inRotation = this.instances.filter((i) => this.probes.isReady(i.name));
    const answering = this.instances.filter((i) => this.probes.isAlive(i.name));
    const pool = inRotation.length > 0 ? inRotation : answering.length > 0 ? answering : this.instances;
    const preferred = pool.filter((i) => i.name !== avoid);
    const from = preferred.length > 0 ? preferred : pool;
    this.next = (this.next + 1) % 1_000_000;
    return from[this.next % from.length]!;
  }
}

/** Sends one delivery and records it. */
export async function deliverOnce(instance: AppInstance, request: WireRequest, eventId: string, role: DeliveryRole, retryNum = 0): Promise<Delivery> {
  const startedAt = Date.now();
  const built = request.build(retryNum);
  // The app's request log takes this as its request id (pino-http's genReqId): the harness's
  // timing of a delivery (deliveries.jsonl) pairs with the app's own, line for line.
  const headers = { ...built.headers, 'X-Request-Id': `${eventId}:${role}:${retryNum}` };
  const { body } = built;
  let status: DeliveryStatus;
  let messages: string[] = [];
  try {
    const response = await fetch(`${instance.url}${request.path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeouts[request.provider]) });
    const text = await response.text();
    status = response.status;
    messages = twimlMessages(text);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const name = (error as { name?: string }).name;
    status = name === 'TimeoutError' ? 'timeout' : cause?.code === 'ECONNREFUSED' ? 'refused' : 'reset';
  }
  return { eventId, provider: request.provider, role, instance: instance.name, startedAt, endedAt: Date.now(), status, messages };
}

/** Whether the provider retries at once after this answer. */
function providerRetries(provider: Delivery['provider'], status: DeliveryStatus): boolean {
  if (status === 'refused' || status === 'reset' || status === 'timeout') return provider !== 'stripe';
  return provider === 'slack' && (status < 200 || status >= 300);
}

/** A delivery and, when the provider would retry it, its retry on another instance. */
export async function deliverWithRetry(
  lb: LoadBalancer,
  request: WireRequest,
  eventId: string,
  role: DeliveryRole,
  target: { readonly instance?: AppInstance; readonly avoid?: string } = {},
): Promise<Delivery[]> {
  const first = await deliverOnce(target.instance ?? lb.pick(target.avoid), request, eventId, role);
  if (!providerRetries(request.provider, first.status)) return [first];
  return [first, await deliverOnce(lb.pick(first.instance), request, eventId, 'provider_retry', 1)];
}

/** Twilio's form webhook, signed over the public URL Twilio was given. */
export function twilioRequest(signing: Signing, provider: 'twilio_sms' | 'twilio_voice', path: string, params: Record<string, string>): WireRequest {
  const signed = `${signing.publicBaseUrl}${path}`;
  const token = randomBytes(16).toString('hex');
  return {
    provider,
    path,
    build: () => ({
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'User-Agent': 'TwilioProxy/1.1',
        'I-Twilio-Idempotency-Token': token,
        'X-Twilio-Signature': twilioSignature(signing.twilioAuthToken, signed, params),
      },
      body: new URLSearchParams(params).toString(),
    }),
  };
}

/** Twilio's inbound SMS form. */
export function smsParams(signing: Signing, sms: { sid: string; from: string; to: string; body: string }): Record<string, string> {
  return {
    ToCountry: 'US',
    SmsMessageSid: sms.sid,
    NumMedia: '0',
    SmsSid: sms.sid,
    SmsStatus: 'received',
    Body: sms.body,
    FromCountry: 'US',
    To: sms.to,
    NumSegments: '1',
    MessageSid: sms.sid,
    AccountSid: signing.twilioAccountSid,
    From: sms.from,
    ApiVersion: '2010-04-01',
  };
}

/** Twilio's voice status callback form. */
export function callParams(signing: Signing, call: { sid: string; from: string; to: string; status: string }): Record<string, string> {
  return {
    AccountSid: signing.twilioAccountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.sid,
    CallStatus: call.status,
    Called: call.to,
    Caller: call.from,
    Direction: 'inbound',
    From: call.from,
    To: call.to,
    CallDuration: call.status === 'completed' ? '12' : '0',
    CallbackSource: 'call-progress-events',
    SequenceNumber: '0',
    Timestamp: new Date().toUTCString(),
  };
}

/** A Slack Events API delivery (a retry carries X-Slack-Retry-Num). */
export function slackRequest(signing: Signing, envelope: Record<string, unknown>): WireRequest {
  const raw = JSON.stringify(envelope);
  return {
    provider: 'slack',
    path: '/slack/events',
    build: (retryNum) => ({
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        ...(retryNum > 0 ? { 'X-Slack-Retry-Num': String(retryNum), 'X-Slack-Retry-Reason': 'http_timeout' } : {}),
        ...slackHeaders(signing.slackSigningSecret, raw),
      },
      body: raw,
    }),
  };
}

/** A Stripe webhook delivery. */
export function stripeRequest(signing: Signing, event: Record<string, unknown>): WireRequest {
  const raw = JSON.stringify(event, null, 2);
  return {
    provider: 'stripe',
    path: '/webhooks/stripe',
    build: () => ({
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'Stripe-Signature': stripeSignature(signing.stripeWebhookSecret, raw),
      },
      body: raw,
    }),
  };
}
