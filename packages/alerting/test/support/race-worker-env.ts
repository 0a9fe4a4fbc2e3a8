// The environment a race worker (test/fixtures/race-worker.ts) is forked with: its store
// reached through the test's TCP proxy, and the fake Twilio and Slack it pages through.
// Shared by the slowed-store race test and the alerting fault bench (bench/alerting-faults.bench.ts).
import { databaseUrl, redisUrl, type FakeSlack, type FakeTwilio, type TcpProxy } from '@hardening/test-support';

/** What a race worker needs to know. */
export interface RaceWorkerSetup {
  readonly store: 'redis' | 'postgres';
  readonly proxy: TcpProxy;
  readonly twilio: FakeTwilio;
  readonly slack: FakeSlack;
  /** Redis key prefix (Redis store). */
  readonly prefix: string;
  /** PostgreSQL schema (PostgreSQL store). */
  readonly schema: string;
}

/**
 * The variables a race worker reads.
 *
 * @param setup - The store, the proxy in front of it and the fakes.
 * @returns Environment variables for `fork`.
 * @example
 * ```ts
 * const env = raceWorkerEnv({ store: 'redis', proxy, twilio, slack, prefix, schema });
 * const worker = forkTs(new URL('../fixtures/race-worker.ts', import.meta.url), env);
 * ```
 */
export function raceWorkerEnv(setup: RaceWorkerSetup): Record<string, string> {
  const { store, proxy, twilio, slack, prefix, schema } = setup;
  return {
    STORE: store,
    REDIS_URL: proxy.url(redisUrl),
    DATABASE_URL: proxy.url(databaseUrl),
    PREFIX: prefix,
    SCHEMA: schema,
    TWILIO_URL: twilio.url,
    TWILIO_SID: twilio.accountSid,
    TWILIO_TOKEN: twilio.authToken,
    SLACK_URL: slack.apiUrl,
  };
}
