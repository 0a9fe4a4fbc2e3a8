// Defect 1 of issue 10: dedup must not fail open when the store is SLOW. Three app
// processes race identical alerts while a TCP proxy delays every request to the real
// Redis or PostgreSQL by 0-4 s: exactly one SMS and one Slack post, and every caller's
// promise resolves (the winner's included). Slow is not down: nobody falls back.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ask,
  databaseUrl,
  forkTs,
  redisUrl,
  requirePostgres,
  requireRedis,
  startFakeSlack,
  startFakeTwilio,
  startTcpProxy,
  uniquePrefix,
  waitReady,
  type FakeSlack,
  type FakeTwilio,
  type TcpProxy,
} from '@hardening/test-support';
import { createSchema, dropSchema, uniqueSchema } from './support/databases.js';
import { raceWorkerEnv, totalRace, type FireReply } from './support/race-worker-env.js';
import { deleteRedisKeys } from './support/shared-store.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const worker = new URL('./fixtures/race-worker.ts', import.meta.url);
const PROCESSES = 3;
const ALERTS_PER_PROCESS = 200;
const MAX_DELAY_MS = 4000;

for (const store of ['redis', 'postgres'] as const) {
  describe.skipIf(store === 'redis' ? !redisUp : !postgresUp)(
    `${PROCESSES} processes x ${ALERTS_PER_PROCESS} identical alerts, ${store} slowed by 0-${MAX_DELAY_MS / 1000} s per request`,
    () => {
      let twilio: FakeTwilio;
      let slack: FakeSlack;
      let proxy: TcpProxy;
      let workers: ChildProcess[] = [];
      const prefix = uniquePrefix('alert-slow');
      const schema = uniqueSchema('alert_slow');

      beforeAll(async () => {
        [twilio, slack] = await Promise.all([startFakeTwilio(), startFakeSlack()]);
        if (store === 'postgres') await createSchema(schema);
        const target = new URL(store === 'redis' ? redisUrl : databaseUrl);
        proxy = await startTcpProxy(target.hostname, Number(target.port));
        const env = raceWorkerEnv({ store, proxy, twilio, slack, prefix, schema });
        workers = Array.from({ length: PROCESSES }, () => forkTs(worker, env));
        await Promise.all(workers.map((w) => waitReady(w, 30_000)));
      }, 60_000);

      afterAll(async () => {
        proxy?.restore();
        await Promise.allSettled(workers.map((w) => ask(w, { cmd: 'stop' }, 30_000)));
        await Promise.all([twilio?.close(), slack?.close(), proxy?.close()]);
        if (store === 'postgres') await dropSchema(schema);
        else await deleteRedisKeys(prefix);
      }, 60_000);

      for (const services of [1, 10]) {
        // Was skipped as a known defect (2 SMS at 10 services per process on Redis). Cause:
        // the proxy's slow mode reordered chunks, Redis dropped the connection ("Protocol
        // error"), the claim's answer was lost and the gate treated it as "store down" and
        // delivered from local memory. Both are fixed: the proxy keeps order, and a claim whose
        // answer is unknown is asked again, never won on a guess (claim-gate.test.ts).
        it(`exactly one SMS and one Slack post, nobody falls back (${services} alert service(s) per process, burst)`, async () => {
          twilio.messages.length = 0;
          twilio.clearRequests();
          slack.messages.length = 0;
          proxy.slow(() => Math.random() * MAX_DELAY_MS);
          const resourceId = `client_slow_${services}`;
          const replies = await Promise.all(workers.map((w) => ask<FireReply>(w, { cmd: 'fire', count: ALERTS_PER_PROCESS, services, resourceId }, 120_000)));
          proxy.restore();
          const { byStatus: totals, via, firedAt, lastResolvedAt, winner } = totalRace(replies);
          const smsAt = twilio.requests.find((r) => r.path.endsWith('/Messages.json'))?.receivedAt;
          const figures = {
            sms: twilio.messages.length,
            slack: slack.messages.length,
            firstFireToSmsMs: smsAt === undefined ? undefined : smsAt - firedAt,
            smsToWinnerResolvedMs: smsAt === undefined || winner === undefined ? undefined : winner.deliveredResolvedAt! - smsAt,
            firstFireToAllResolvedMs: lastResolvedAt - firedAt,
            outcomes: totals,
            claimedVia: via,
          };
          console.log(`[alerting slow-store race] ${store}, ${services} service(s)/process: ${JSON.stringify(figures)}`);
          expect(twilio.messages).toHaveLength(1);
          expect(slack.messages).toHaveLength(1);
          expect(totals).toEqual({ delivered: 1, suppressed: PROCESSES * ALERTS_PER_PROCESS - 1 });
          expect(via).toEqual({ store: PROCESSES * ALERTS_PER_PROCESS });
        }, 150_000);
      }
    },
  );
}
