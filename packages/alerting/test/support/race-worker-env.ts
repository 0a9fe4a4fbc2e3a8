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

/** A race worker's answer to `fire`: its callers' outcomes and when they resolved. */
export interface FireReply {
  byStatus: Record<string, number>;
  via: Record<string, number>;
  firedAt: number;
  lastResolvedAt: number;
  deliveredResolvedAt?: number;
}

/** The workers' replies added up, with the moments the race's figures are measured from. */
export interface RaceTotals {
  /** Callers' results by status, over every worker. */
  readonly byStatus: Record<string, number>;
  /** How each claim was decided, over every worker. */
  readonly via: Record<string, number>;
  /** The first fire of any worker (epoch ms). */
  readonly firedAt: number;
  /** When the last caller of any worker resolved (epoch ms). */
  readonly lastResolvedAt: number;
  /** The reply of the worker whose caller delivered the page, if any. */
  readonly winner: FireReply | undefined;
}

/**
 * Adds up the workers' replies to one `fire`.
 *
 * @param replies - One reply per worker.
 * @returns The totals and the moments the figures are measured from.
 * @example
 * ```ts
 * const { byStatus, via, firedAt } = totalRace(await Promise.all(workers.map((w) => ask<FireReply>(w, { cmd: 'fire', count: 200 }))));
 * ```
 */
export function totalRace(replies: readonly FireReply[]): RaceTotals {
  const byStatus: Record<string, number> = {};
  const via: Record<string, number> = {};
  for (const reply of replies) {
    for (const [status, n] of Object.entries(reply.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + n;
    for (const [path, n] of Object.entries(reply.via)) via[path] = (via[path] ?? 0) + n;
  }
  return {
    byStatus,
    via,
    firedAt: Math.min(...replies.map((r) => r.firedAt)),
    lastResolvedAt: Math.max(...replies.map((r) => r.lastResolvedAt)),
    winner: replies.find((r) => r.deliveredResolvedAt !== undefined),
  };
}
