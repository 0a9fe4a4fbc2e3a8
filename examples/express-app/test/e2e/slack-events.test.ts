// Slack Events API over real HTTP: url_verification, signals stored once per event_id,
// Slack acknowledged within its 3 s deadline whatever the database does, and evaluations
// that time out leave the signal stored.
import pg from 'pg';
import { eventually, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Extractor } from '../../src/domain/extractor.js';
import { deterministicExtractor } from '../../src/domain/extractor.js';
import { levels } from './support/log-capture.js';
import { slackMessage, urlVerification } from './support/events.js';
import { counterValue } from './support/metrics.js';
import { slackEventId } from './support/phones.js';
import { startAppOnPrivateRedis, type AppOnPrivateRedis } from './support/private-redis-app.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

/** Slack retries when it has no 2xx within 3 s. */
const slackDeadlineMs = 3000;

describe.skipIf(!postgresUp || !redisUp)('Slack events (PostgreSQL + Redis)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: true }, label: 'slack' });
  });
  afterAll(async () => app?.close());

  it('url_verification is answered with its challenge', async () => {
    const handshake = urlVerification();
    const reply = await app.slackEvent(handshake);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ challenge: handshake.challenge });
    expect(await app.ctx.db.prisma.slackSignal.count()).toBe(0);
  });

  it('a message event is stored once per event_id; Slack retries get a 200 and create nothing', async () => {
    const eventId = slackEventId();
    const envelope = slackMessage('Anyone free to look at a dripping tap on Friday?', { eventId });
    const first = await app.slackEvent(envelope);
    expect(first.status).toBe(200);
    const retry = await app.slackEvent(envelope, { retryNum: 1, retryReason: 'http_timeout' });
    const again = await app.slackEvent(envelope, { retryNum: 2, retryReason: 'http_error' });
    expect([retry.status, again.status]).toEqual([200, 200]);

    expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId } })).toBe(1);
    expect(await app.ctx.db.prisma.webhookDelivery.count({ where: { provider: 'slack', eventId } })).toBe(1);
    expect(await counterValue(app.ctx.metrics.duplicates, { provider: 'slack' })).toBeGreaterThanOrEqual(2);
    // The queued evaluation runs (BullMQ here), with the message's permalink from Slack.
    await eventually(async () => (await app.ctx.db.prisma.slackSignal.findUniqueOrThrow({ where: { eventId } })).status === 'evaluated', 10_000);
    const signal = await app.ctx.db.prisma.slackSignal.findUniqueOrThrow({ where: { eventId } });
    expect(signal).toMatchObject({ result: 'normal', channel: 'C0E2EJOBS' });
    expect(signal.permalink).toMatch(/^https:\/\/fake\.slack\.com\/archives\/C0E2EJOBS\/p\d+$/);
    // Completed once the first delivery's store returns (on a busy machine that may be after
    // Slack's acknowledgement budget, when the event was spooled as well).
    await eventually(async () => (await app.ctx.db.prisma.webhookDelivery.findFirstOrThrow({ where: { eventId } })).status === 'completed', 10_000);
  });

  it('an urgent message raises an alert that reaches the Slack alerts channel', async () => {
    const eventId = slackEventId();
    expect((await app.slackEvent(slackMessage('EMERGENCY: burst pipe at the school, water everywhere', { eventId }))).status).toBe(200);
    await eventually(() => app.providers.slack.messages.some((m) => JSON.stringify(m.args).includes('Urgent request in Slack')), 10_000);
    const posted = app.providers.slack.messages.find((m) => JSON.stringify(m.args).includes('Urgent request in Slack'))!;
    expect(posted.channel).toBe(app.providers.slackAlertsChannel);
    expect((await app.ctx.db.prisma.slackSignal.findUniqueOrThrow({ where: { eventId } })).result).toBe('urgent');
  });

  it('bot messages and edits are acknowledged and not stored', async () => {
    const bot = slackMessage('I am a bot');
    (bot.event as Record<string, unknown>).bot_id = 'B0E2E';
    const edit = slackMessage('edited');
    (edit.event as Record<string, unknown>).subtype = 'message_changed';
    expect((await app.slackEvent(bot)).status).toBe(200);
    expect((await app.slackEvent(edit)).status).toBe(200);
    expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId: { in: [bot.event_id as string, edit.event_id as string] } } })).toBe(0);
  });
});

describe.skipIf(!postgresUp)('Slack events while the database is slow or gone (PostgreSQL, no Redis)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, storageOptions: { databaseProxy: true }, label: 'slackslow' });
  });
  afterAll(async () => app?.close());

  it('acknowledged within 3 s while a lock holds the signals table, and the signal is stored once the database answers', async () => {
    // Another session holds the table: the app's insert waits (under its 5 s statement timeout).
    const blocker = new pg.Client({ connectionString: app.storage.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE "slack_signals" IN ACCESS EXCLUSIVE MODE');
    const eventId = slackEventId();
    let reply;
    try {
      reply = await app.slackEvent(slackMessage('Is anyone on call tonight?', { eventId }));
    } finally {
      setTimeout(() => void blocker.query('COMMIT').finally(() => blocker.end()), 1200);
    }
    expect(reply.status).toBe(200);
    expect(reply.elapsedMs).toBeLessThan(slackDeadlineMs);
    await eventually(async () => (await app.ctx.db.prisma.slackSignal.findUnique({ where: { eventId } }))?.status === 'evaluated', 10_000);
    // Acknowledged before it was stored, so it was spooled first; the copy drains as a
    // duplicate of the stored signal.
    const spooled: unknown[] = [];
    await app.ctx.spool.drain((event) => {
      spooled.push(event);
      return Promise.resolve();
    });
    expect(spooled).toEqual([expect.objectContaining({ provider: 'slack', payload: expect.objectContaining({ event_id: eventId }) })]);
    expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId } })).toBe(1);
    expect(app.logs.find('Slack event spooled: could not be stored', levels.error)).toHaveLength(0);
  });

  it('a retry while an earlier delivery still holds the event (its instance killed mid-store) is spooled before the 200', async () => {
    // The dead instance's claim: in progress, for the dedup's 60 s lease.
    const eventId = slackEventId();
    const claimed = await app.ctx.idempotencyStore.claim({ key: `webhook:slack:${eventId}`, token: 'killed-instance', fingerprint: '', leaseMs: 60_000 });
    expect(claimed.status).toBe('claimed');
    const reply = await app.slackEvent(slackMessage('Leak under the sink, can someone come today?', { eventId }), { retryNum: 1, retryReason: 'http_timeout' });
    expect(reply.status).toBe(200);
    expect(reply.elapsedMs).toBeLessThan(slackDeadlineMs);
    // The 200 stopped Slack's retries: the event must be durable now, though the claim holds.
    const spooled: Array<{ provider: string; payload: Record<string, unknown> }> = [];
    await app.ctx.spool.drain((event) => {
      spooled.push(event);
      return Promise.resolve();
    });
    expect(spooled).toEqual([expect.objectContaining({ provider: 'slack', payload: expect.objectContaining({ event_id: eventId }) })]);
  });

  it('acknowledged within 3 s while the database hangs; the event is kept (spooled) and the failure logged', async () => {
    const eventId = slackEventId();
    const spooledBefore = await counterValue(app.ctx.metrics.webhooks, { provider: 'slack', outcome: 'spooled' });
    app.storage.proxy!.hang();
    let reply;
    try {
      reply = await app.slackEvent(slackMessage('No hot water in unit 4', { eventId }));
    } finally {
      // The database comes back after the acknowledgement: the hung connections are reset.
      setTimeout(() => app.storage.proxy!.restore(), 300);
    }
    expect(reply.status).toBe(200);
    expect(reply.elapsedMs).toBeLessThan(slackDeadlineMs);
    // The idempotency claim itself was on the hung connections: nothing reached the
    // database, so the raw event went to the spool (drained by the jobs loop later).
    await eventually(async () => (await app.ctx.spool.size()) === 1, 15_000);
    const spooled: unknown[] = [];
    await app.ctx.spool.drain((event) => {
      spooled.push(event);
      return Promise.resolve();
    });
    expect(spooled).toEqual([expect.objectContaining({ provider: 'slack', payload: expect.objectContaining({ event_id: eventId }) })]);
    expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId } })).toBe(0);
    expect(app.logs.find('Slack event spooled', levels.error)).toHaveLength(1);
    expect(await counterValue(app.ctx.metrics.webhooks, { provider: 'slack', outcome: 'spooled' })).toBe(spooledBefore + 1);
  });
});

describe.skipIf(!postgresUp || !redisUp)('Slack events while Redis is down (a private redis-server, killed)', () => {
  let setup: AppOnPrivateRedis;
  beforeAll(async () => {
    setup = await startAppOnPrivateRedis(`slackredis${process.pid}`, {});
  });
  afterAll(async () => {
    await setup?.app.close();
    await setup?.redis.stop();
  });

  it('acknowledged within 3 s without waiting for a dedup claim Redis cannot answer; the event is in the local spool once', async () => {
    const { app, redis } = setup;
    await redis.stop();
    await eventually(() => app.ctx.redis?.status === 'reconnecting', 5000);
    const eventId = slackEventId();
    const reply = await app.slackEvent(slackMessage('Boiler leaking in the basement', { eventId }));
    expect(reply.status).toBe(200);
    expect(reply.elapsedMs).toBeLessThan(slackDeadlineMs);
    // Spooled without waiting for the claim (ioredis would only have queued it offline),
    // and not reported as a database failure.
    expect(app.logs.find('Slack event spooled without a dedup claim: Redis is not connected')).toHaveLength(1);
    expect(app.logs.find('Slack event spooled: could not be stored', levels.error)).toHaveLength(0);
    await redis.start();
    await eventually(() => app.ctx.redis?.status === 'ready', 10_000);
    const spooled: Array<{ provider: string; payload: Record<string, unknown> }> = [];
    await app.ctx.spool.drain((event) => {
      spooled.push(event);
      return Promise.resolve();
    });
    expect(spooled.filter((e) => e.payload.event_id === eventId)).toEqual([expect.objectContaining({ provider: 'slack' })]);
  }, 30_000);
});

describe.skipIf(!postgresUp)('Slack signal evaluation timeout', () => {
  let app: TestApp;
  /** An extractor (the OpenAI one, say) that does not answer: it only stops when aborted. */
  const stalled: Extractor = {
    name: 'stalled',
    extract: (goal, text, signal) =>
      goal === 'customer_message'
        ? // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's abort reason, as the real extractor rejects with it
          new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }))
        : deterministicExtractor.extract(goal, text),
  };
  beforeAll(async () => {
    app = await startTestApp({
      spec: { backend: 'postgres', redis: false },
      label: 'slackeval',
      overrides: { extractor: stalled, signalEvaluationTimeoutMs: 300 },
    });
  });
  afterAll(async () => app?.close());

  it('an evaluation that times out leaves the signal stored as timed_out, logged for a replay', async () => {
    const eventId = slackEventId();
    const reply = await app.slackEvent(slackMessage('Water heater making a banging noise', { eventId }));
    expect(reply.status).toBe(200);
    await eventually(async () => (await app.ctx.db.prisma.slackSignal.findUnique({ where: { eventId } }))?.status === 'timed_out', 10_000);
    const signal = await app.ctx.db.prisma.slackSignal.findUniqueOrThrow({ where: { eventId } });
    expect(signal.text).toBe('Water heater making a banging noise');
    expect(signal.permalink).not.toBeNull();
    expect(app.logs.find('timed out; stored for replay', levels.warn)).toHaveLength(1);
  });
});
