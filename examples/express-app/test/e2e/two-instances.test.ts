// Two instances of one deployment (behind a load balancer: one public URL) share
// PostgreSQL and Redis. A provider delivering the same webhook to both at once gets it
// processed once.
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { forkApp, type AppProcess } from './support/app-process.js';
import { openStorage, type Storage } from './support/backends.js';
import { checkoutCompleted, slackMessage } from './support/events.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { callSid, messageSid, phone } from './support/phones.js';
import { startProviders, type Providers } from './support/providers.js';
import { adminPhone, adminToken, createWebhookClient, poolNumbers, startTestApp, systemNumber, type TestApp, type WebhookClient } from './support/test-app.js';
import type { OutboxRound } from '../../src/jobs/outbox-worker.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

/** The URL the providers were given: the load balancer in front of both instances. */
const publicBaseUrl = 'https://assistant.example.test';

interface Instance extends WebhookClient {
  drainOnce(): Promise<OutboxRound>;
}

/** The checks, for any pair of instances sharing a deployment's storage. */
function sharedDeploymentTests(
  setup: () => {
    a: Instance;
    b: Instance;
    providers: Providers;
    count: (model: 'client' | 'inboundEvent' | 'outboundMessage' | 'slackSignal', where: object) => Promise<number>;
  },
) {
  let client: OnboardedClient;
  const both = <T>(fn: (instance: Instance) => Promise<T>) => {
    const { a, b } = setup();
    return Promise.all([fn(a), fn(b)]);
  };
  const drainBoth = async () => {
    const { a, b } = setup();
    let sent = 0;
    for (let i = 0; i < 5; i++) {
      const [ra, rb] = await Promise.all([a.drainOnce(), b.drainOnce()]);
      sent += ra.sent + rb.sent;
      if (Object.values(ra).every((n) => n === 0) && Object.values(rb).every((n) => n === 0)) break;
    }
    return sent;
  };

  beforeAll(async () => {
    const { a } = setup();
    client = await onboardClient({ ...a, systemNumber, drainOutbox: async () => ({ ...(await a.drainOnce()) }) }, { businessName: 'Twin Pipes' });
  });

  it('the same inbound SMS to both instances at once: processed once, both answer the same TwiML', async () => {
    for (let i = 0; i < 5; i++) {
      const owner = phone();
      const sid = messageSid();
      const [ra, rb] = await both((instance) => instance.sms({ from: owner, to: systemNumber, body: 'Hi there', messageSid: sid }));
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(ra.messages).toEqual([texts.welcome]);
      expect(rb.body).toBe(ra.body);
      const { count } = setup();
      expect(await count('client', { phone: owner })).toBe(1);
      expect(await count('inboundEvent', { messageSid: sid })).toBe(1);
    }
  });

  it('the same missed call to both at once, both outbox workers running: the caller is texted once', async () => {
    const caller = phone();
    const sid = callSid();
    const replies = await both((instance) => instance.callStatus({ callSid: sid, from: caller, to: client.number, status: 'no-answer' }));
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    expect(await setup().count('outboundMessage', { toPhone: caller })).toBe(1);
    expect(await drainBoth()).toBe(1);
    expect(
      setup()
        .providers.twilio.messages.filter((m) => m.to === caller)
        .map((m) => m.body),
    ).toEqual([texts.missedCall('Twin Pipes')]);
  });

  it('many outbox rows, both workers claiming at once: each SMS sent exactly once', async () => {
    const callers = Array.from({ length: 8 }, () => phone());
    for (const caller of callers) await setup().a.callStatus({ callSid: callSid(), from: caller, to: client.number, status: 'busy' });
    expect(await drainBoth()).toBe(8);
    for (const caller of callers) expect(setup().providers.twilio.messages.filter((m) => m.to === caller)).toHaveLength(1);
  });

  it('the same Stripe event to both at once: the payment is activated once, the owner told once', async () => {
    const owner = phone();
    const { a } = setup();
    let pay = '';
    for (const body of ['Hi', 'Double Trouble Heating', 'We serve Capital City', 'YES'])
      pay = (await a.sms({ from: owner, to: systemNumber, body })).messages[0]!;
    const clientId = decodeURIComponent(/client_reference_id=([^\s&]+)/.exec(pay)![1]!);
    const event = checkoutCompleted(clientId);
    const replies = await both((instance) => instance.stripeEvent(event));
    // One processes; the other is a duplicate (200) or, still in progress, told to retry (409).
    expect(replies.map((r) => r.status).sort()).toSatisfy((s: number[]) => s[0] === 200 && (s[1] === 200 || s[1] === 409));
    expect(await drainBoth()).toBe(1);
    expect(setup().providers.twilio.messages.filter((m) => m.to === owner)).toHaveLength(1);
  });

  it('the same Slack event to both at once: stored once', async () => {
    const envelope = slackMessage('Anyone near Elm Street for a quick job?');
    const replies = await both((instance) => instance.slackEvent(envelope));
    expect(replies.map((r) => r.status).sort()).toSatisfy((s: number[]) => s[0] === 200 && (s[1] === 200 || s[1] === 409));
    expect(await setup().count('slackSignal', { eventId: envelope.event_id as string })).toBe(1);
  });
}

describe.skipIf(!postgresUp || !redisUp)('two app processes sharing PostgreSQL and Redis', () => {
  let providers: Providers;
  let storage: Storage;
  let a: AppProcess;
  let b: AppProcess;
  let admin: TestApp;

  beforeAll(async () => {
    providers = await startProviders();
    storage = await openStorage({ backend: 'postgres', redis: true }, { label: 'twoproc' });
    const env = {
      NODE_ENV: 'test',
      PUBLIC_BASE_URL: publicBaseUrl,
      TWILIO_FROM_NUMBER: systemNumber,
      ALERT_SMS_TO: adminPhone,
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'info',
      ...providers.env(),
      ...storage.env,
    };
    [a, b] = await Promise.all([forkApp({ ...env, SPOOL_FILE: `${storage.dir}/a.jsonl` }), forkApp({ ...env, SPOOL_FILE: `${storage.dir}/b.jsonl` })]);
    // A third, in-process view of the same storage, to read the database in assertions.
    admin = await startTestApp({ storage, providers, jobRunner: false, publicBaseUrl });
    await addNumbers(admin.ctx.db.prisma, poolNumbers(2));
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await admin?.close();
    await storage?.release();
    await providers?.close();
  });

  sharedDeploymentTests(() => ({
    a: { ...createWebhookClient({ url: a.url, publicBaseUrl, providers }), drainOnce: () => a.drainOnce() },
    b: { ...createWebhookClient({ url: b.url, publicBaseUrl, providers }), drainOnce: () => b.drainOnce() },
    providers,
    count: (model, where) => (admin.ctx.db.prisma[model] as unknown as { count(args: object): Promise<number> }).count({ where }),
  }));

  it('neither process logged a problem it should not have', async () => {
    const lines = [...(await a.logs()), ...(await b.logs())].map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe.skipIf(!postgresUp)('two app instances sharing PostgreSQL without Redis (in one process, separate pools)', () => {
  let providers: Providers;
  let storage: Storage;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    providers = await startProviders();
    storage = await openStorage({ backend: 'postgres', redis: false }, { label: 'twoinst' });
    [a, b] = await Promise.all([
      startTestApp({ storage, providers, publicBaseUrl, label: 'a' }),
      startTestApp({ storage, providers, publicBaseUrl, label: 'b' }),
    ]);
    await a.addPoolNumbers(2);
  });
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await storage?.release();
    await providers?.close();
  });

  const instance = (app: TestApp): Instance => ({ ...app, drainOnce: () => app.outboxWorker().runOnce() });
  sharedDeploymentTests(() => ({
    a: instance(a),
    b: instance(b),
    providers,
    count: (model, where) => (a.ctx.db.prisma[model] as unknown as { count(args: object): Promise<number> }).count({ where }),
  }));
});
