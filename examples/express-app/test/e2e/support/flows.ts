// Whole journeys over HTTP, for tests that need a client to exist before they start: an
// owner onboards by SMS, pays through Stripe and makes the test call, exactly as in
// production (no rows written behind the app's back).
import { expect } from 'vitest';
import { checkoutCompleted } from './events.js';
import { callSid, phone } from './phones.js';
import { startTestApp, type TestApp } from './test-app.js';

/** A client that finished onboarding. */
export interface OnboardedClient {
  readonly owner: string;
  readonly clientId: string;
  /** The client's assistant number (from the pool). */
  readonly number: string;
  readonly businessName: string;
}

/**
 * Walks a new owner from the first text to COMPLETE: name, area, number, YES, Stripe
 * checkout, test call. The pool must have a number free. Drains the outbox on the way.
 */
export async function onboardClient(
  app: Pick<TestApp, 'sms' | 'stripeEvent' | 'callStatus' | 'drainOutbox' | 'systemNumber'>,
  options: { businessName?: string; owner?: string } = {},
): Promise<OnboardedClient> {
  const owner = options.owner ?? phone();
  const businessName = options.businessName ?? `Plumbing ${Math.random().toString(36).slice(2, 6).toUpperCase()}`;
  const say = async (body: string) => {
    const reply = await app.sms({ from: owner, to: app.systemNumber, body });
    expect(reply.status, reply.body).toBe(200);
    expect(reply.messages, reply.body).toHaveLength(1);
    return reply.messages[0]!;
  };
  await say('Hi');
  await say(businessName);
  const allocated = await say('We serve Springfield');
  const number = /assistant number is (\+\d+)/.exec(allocated)?.[1];
  if (number === undefined) throw new Error(`no number allocated: ${allocated}`);
  const pay = await say('YES');
  const clientId = /client_reference_id=([^\s&]+)/.exec(pay)?.[1];
  if (clientId === undefined) throw new Error(`no payment link: ${pay}`);
  const paid = await app.stripeEvent(checkoutCompleted(decodeURIComponent(clientId)));
  expect(paid.status).toBe(200);
  const call = await app.callStatus({ callSid: callSid(), from: owner, to: number, status: 'completed' });
  expect(call.status).toBe(200);
  await app.drainOutbox();
  return { owner, clientId: decodeURIComponent(clientId), number, businessName };
}

/**
 * The app on its own PostgreSQL database behind a TCP proxy (`app.storage.proxy`: cut, hang,
 * slow), with or without a private Redis, and one client onboarded on a pool number: the
 * setup of the database-fault tests.
 */
export async function startProxiedAppWithClient(options: {
  readonly label: string;
  readonly redis: boolean;
  readonly businessName: string;
}): Promise<{ readonly app: TestApp; readonly client: OnboardedClient }> {
  const app = await startTestApp({ spec: { backend: 'postgres', redis: options.redis }, storageOptions: { databaseProxy: true }, label: options.label });
  await app.addPoolNumbers(1);
  return { app, client: await onboardClient(app, { businessName: options.businessName }) };
}
