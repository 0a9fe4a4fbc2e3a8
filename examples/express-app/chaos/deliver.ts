// Delivers webhooks the way each provider does: signed with the providers' own helpers
// (the Twilio SDK's signature, Slack's v0 HMAC, the Stripe SDK's test header), through a
// load balancer that sends each request to an instance in rotation, with the providers'
// retry habits: Twilio retries once after a connection failure or its 15 s timeout, Slack
// after 3 s or a non-2xx answer (X-Slack-Retry-Num), Stripe after any answer but a 2xx
// with exponential backoff (for up to 3 days; compressed here, see `stripeRetryDelaysMs`).
// The requests leave from a worker thread (delivery-worker.mjs), so a stall of the
// harness's main loop cannot abort a request the app answered.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
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

interface WorkerResult {
  readonly id: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: DeliveryStatus;
  readonly text: string;
}

/** The delivery thread, started on first use and ended by {@link closeDeliveries}. */
let deliveryWorker: { worker: Worker; pending: Map<number, (result: WorkerResult) => void>; next: number } | undefined;

function worker(): NonNullable<typeof deliveryWorker> {
  if (deliveryWorker !== undefined) return deliveryWorker;
  const w = new Worker(new URL('./delivery-worker.mjs', import.meta.url));
  const state = { worker: w, pending: new Map<number, (result: WorkerResult) => void>(), next: 0 };
  w.on('message', (result: WorkerResult) => {
    state.pending.get(result.id)?.(result);
    state.pending.delete(result.id);
  });
  w.on('error', (error) => console.error('[chaos] the delivery worker failed:', error));
  deliveryWorker = state;
  return state;
}

/** Ends the delivery thread (at the end of the run; a later delivery starts a new one). */
export async function closeDeliveries(): Promise<void> {
  const state = deliveryWorker;
  deliveryWorker = undefined;
  await state?.worker.terminate();
}

/** Sends one delivery (from the delivery thread, which times it) and records it. */
export async function deliverOnce(instance: AppInstance, request: WireRequest, eventId: string, role: DeliveryRole, retryNum = 0): Promise<Delivery> {
  const built = request.build(retryNum);
  // The app's request log takes this as its request id (src/http/request-log.ts): the harness's
  // timing of a delivery (deliveries.jsonl) pairs with the app's own, line for line.
  const headers = { ...built.headers, 'X-Request-Id': `${eventId}:${role}:${retryNum}` };
  const state = worker();
  const id = state.next++;
  const result = await new Promise<WorkerResult>((resolve) => {
    state.pending.set(id, resolve);
    state.worker.postMessage({ id, url: `${instance.url}${request.path}`, headers, body: built.body, timeoutMs: timeouts[request.provider] });
  });
  const messages = typeof result.status === 'number' ? twimlMessages(result.text) : [];
  return {
    eventId,
    provider: request.provider,
    role,
    instance: instance.name,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    status: result.status,
    messages,
  };
}

const answered = (status: DeliveryStatus) => typeof status === 'number' && status >= 200 && status < 300;

/**
 * Stripe's retries of a delivery that got no 2xx (no answer, a cut connection, any other
 * status), compressed: Stripe backs off exponentially for up to 3 days; here 3, 6, 12 and
 * 24 s after each failure, 4 retries (45 s in all: longer than the longest
 * database fault, 15 s, plus the breaker's recovery).
 */
export const stripeRetryDelaysMs: readonly number[] = [3000, 6000, 12_000, 24_000];

/** Whether the provider retries at once after this answer (Twilio, Slack; Stripe backs off). */
function providerRetries(provider: Delivery['provider'], status: DeliveryStatus): boolean {
  if (status === 'refused' || status === 'reset' || status === 'timeout') return provider !== 'stripe';
  return provider === 'slack' && !answered(status);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A delivery and, when the provider would retry it, its retries on other instances. */
export async function deliverWithRetry(
  lb: LoadBalancer,
  request: WireRequest,
  eventId: string,
  role: DeliveryRole,
  target: { readonly instance?: AppInstance; readonly avoid?: string } = {},
): Promise<Delivery[]> {
  const first = await deliverOnce(target.instance ?? lb.pick(target.avoid), request, eventId, role);
  if (request.provider === 'stripe') {
    const all = [first];
    for (const [i, delay] of stripeRetryDelaysMs.entries()) {
      if (answered(all.at(-1)!.status)) break;
      await sleep(delay);
      all.push(await deliverOnce(lb.pick(all.at(-1)!.instance), request, eventId, 'provider_retry', i + 1));
    }
    return all;
  }
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
