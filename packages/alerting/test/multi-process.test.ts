// Three app processes race 1,000 identical alerts each, on a shared store: exactly one SMS
// reaches the (fake) Twilio. Separate Node processes, real Redis and real PostgreSQL.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, forkTs, redisUrl, requirePostgres, requireRedis, startFakeTwilio, uniquePrefix, waitReady, type FakeTwilio } from '@hardening/test-support';
import { createSchema, dropSchema, uniqueSchema } from './support/databases.js';
import { deleteRedisKeys } from './support/shared-store.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const worker = new URL('./fixtures/race-worker.ts', import.meta.url);
const PROCESSES = 3;
const ALERTS_PER_PROCESS = 1000;

for (const store of ['redis', 'postgres'] as const) {
  describe.skipIf(store === 'redis' ? !redisUp : !postgresUp)(`${PROCESSES} processes racing ${ALERTS_PER_PROCESS} identical alerts each (${store})`, () => {
    let twilio: FakeTwilio;
    let workers: ChildProcess[] = [];
    const prefix = uniquePrefix('alert-race');
    const schema = uniqueSchema('alert_race');

    beforeAll(async () => {
      twilio = await startFakeTwilio();
      if (store === 'postgres') await createSchema(schema);
      const env = {
        STORE: store,
        REDIS_URL: redisUrl,
        PREFIX: prefix,
        SCHEMA: schema,
        TWILIO_URL: twilio.url,
        TWILIO_SID: twilio.accountSid,
        TWILIO_TOKEN: twilio.authToken,
      };
      workers = Array.from({ length: PROCESSES }, () => forkTs(worker, env));
      await Promise.all(workers.map((w) => waitReady(w, 30_000)));
    }, 60_000);

    afterAll(async () => {
      await Promise.allSettled(workers.map((w) => ask(w, { cmd: 'stop' })));
      await twilio?.close();
      if (store === 'postgres') await dropSchema(schema);
      else await deleteRedisKeys(prefix);
    });

    for (const services of [1, 100]) {
      it(`exactly one SMS; every other alert is suppressed (${services === 1 ? 'one alert service per process' : `${services} alert services per process: every alert claims in the store`})`, async () => {
        twilio.messages.length = 0;
        twilio.clearRequests();
        const replies = await Promise.all(
          workers.map((w) =>
            ask<{ byStatus: Record<string, number> }>(w, { cmd: 'fire', count: ALERTS_PER_PROCESS, services, resourceId: `client_${services}` }, 60_000),
          ),
        );
        const totals: Record<string, number> = {};
        for (const reply of replies) for (const [status, n] of Object.entries(reply.byStatus)) totals[status] = (totals[status] ?? 0) + n;
        const duplicates = twilio.messages.length - 1;
        console.log(
          `[alerting race] ${store}, ${services} service(s)/process: ${PROCESSES} processes x ${ALERTS_PER_PROCESS} alerts -> ${twilio.messages.length} SMS, duplicate deliveries: ${duplicates}, outcomes ${JSON.stringify(totals)}`,
        );
        expect(twilio.messages).toHaveLength(1);
        expect(twilio.messages[0]!.body).toContain(`Resource: client_${services}`);
        expect(totals).toEqual({ delivered: 1, suppressed: PROCESSES * ALERTS_PER_PROCESS - 1 });
      }, 90_000);
    }
  });
}
