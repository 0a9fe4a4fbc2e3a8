import type pg from 'pg';
import { createPostgresMonitorLock, createRedisMonitorLock, type MonitorLock, type PgSessionClient, type RedisEvalClient } from '@hardening/alerting';
import { scrubText, type Logger } from '@hardening/core';

/** A lock and how to let go of what it holds open. */
export interface SchedulerLock {
  /** Undefined on a single process (PGlite): every round is this instance's. */
  readonly lock: MonitorLock | undefined;
  /** `redis`, `postgres`, `none`, or a given lock's own kind. */
  readonly kind: string;
  close(): Promise<void>;
}

/**
 * One PostgreSQL session for advisory locks that reconnects after the connection drops (a
 * database restart, a failover): the dropped session's locks are gone with it, and the next
 * round connects again instead of being refused forever. (`pg.Client` does not reconnect
 * by itself, and a pool cannot hold session locks.)
 */
export class ReconnectingPgSession implements PgSessionClient {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  async query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> {
    const client = await this.connect();
    try {
      return await client.query(text, values);
    } catch (error) {
      this.drop(client);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('lock session closed'));
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      // Imported here, not at top level: a PGlite app (no DATABASE_URL) never loads node-postgres.
      const { default: pgModule } = await import('pg');
      const client = new pgModule.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000, statement_timeout: 5000 });
      client.on('error', (error) => {
        this.logger.warn({ err: scrubText(error.message) }, 'scheduler lock: PostgreSQL session lost; reconnecting at the next round');
        this.drop(client);
      });
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
  }
}

/**
 * The lock that gives each monitor and retention round to one instance: on Redis when it is
 * configured (`SET NX PX` per round), else on PostgreSQL advisory locks (a dedicated,
 * reconnecting session), else none (PGlite is one process).
 */
export function createSchedulerLock(options: { redis?: RedisEvalClient; databaseUrl?: string; keyPrefix?: string; logger: Logger }): SchedulerLock {
  if (options.redis !== undefined) {
    return {
      kind: 'redis',
      lock: createRedisMonitorLock({ redis: options.redis, prefix: `${options.keyPrefix ?? 'hardening-app'}:scheduler-lock` }),
      close: async () => {},
    };
  }
  if (options.databaseUrl !== undefined) {
    const session = new ReconnectingPgSession(options.databaseUrl, options.logger);
    return { kind: 'postgres', lock: createPostgresMonitorLock({ client: session }), close: () => session.close() };
  }
  return { kind: 'none', lock: undefined, close: async () => {} };
}
