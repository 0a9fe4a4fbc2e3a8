// Slack Events API over real HTTP when the event cannot be kept anywhere: the private
// redis-server is killed and the spool directory cannot be written. The route must answer 503
// (problem+json, no X-Slack-No-Retry) so Slack retries, never a 200 for an event it dropped;
// Slack's retry, once Redis is back, is stored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { levels } from './support/log-capture.js';
import { slackMessage } from './support/events.js';
import { slackEventId } from './support/phones.js';
import { startAppOnPrivateRedis, type AppOnPrivateRedis } from './support/private-redis-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

describe.skipIf(!postgresUp || !redisUp)('Slack events when neither Redis nor the disk takes them', () => {
  // The spool directory's path is a regular file, so nothing can be created under it: a mode
  // bit would not do, as the suite runs as root in CI and root writes through 0o500.
  const root = mkdtempSync(join(tmpdir(), 'slack-unkept-'));
  const spoolDir = join(root, 'spool');
  let setup: AppOnPrivateRedis;
  beforeAll(async () => {
    writeFileSync(spoolDir, 'not a directory');
    setup = await startAppOnPrivateRedis(`slackunkept${process.pid}`, { spoolFile: join(spoolDir, 'inbox-spool.jsonl') });
  });
  afterAll(async () => {
    await setup?.app.close();
    await setup?.redis.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 503 problem+json so Slack retries, and stores the retry once Redis is back', async () => {
    const { app, redis } = setup;
    await redis.stop();
    await eventually(() => app.ctx.redis?.status !== 'ready', 10_000);
    const eventId = slackEventId();
    const envelope = slackMessage('Water coming through the ceiling', { eventId });

    const refused = await app.slackEvent(envelope);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 503, detail: 'The event could not be kept; retry later.' });
    expect(refused.headers.get('x-slack-no-retry')).toBeNull(); // Slack must retry it
    expect(app.logs.find('Slack event could not be stored nor spooled; answering 503 so Slack retries', levels.error)).toHaveLength(1);
    expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId } })).toBe(0);

    await redis.start();
    await eventually(() => app.ctx.redis?.status === 'ready', 20_000);
    const retried = await app.slackEvent(envelope, { retryNum: 1, retryReason: 'http_error' });
    expect(retried.status).toBe(200);
    await eventually(async () => (await app.ctx.db.prisma.slackSignal.count({ where: { eventId } })) === 1, 10_000);
  }, 60_000);
});
