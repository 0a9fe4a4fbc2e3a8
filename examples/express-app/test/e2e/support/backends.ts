// Where an app under test keeps its data: PGlite (in memory or a temp folder) or a
// PostgreSQL database of its own on the shared server (optionally behind a TCP proxy for
// outage tests), with or without Redis (keys isolated under a prefix of the test's own,
// deleted at the end: never a FLUSHDB on the shared server).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisUrl, startTcpProxy, type TcpProxy, type TestDatabase } from '@hardening/test-support';
import { migratedPostgresDatabase } from '../../support/databases.js';

export type Backend = 'pglite' | 'postgres';

/** One cell of the backend matrix. */
export interface BackendSpec {
  readonly backend: Backend;
  readonly redis: boolean;
}

/** Every combination the app supports. */
export const fullMatrix: readonly BackendSpec[] = [
  { backend: 'pglite', redis: false },
  { backend: 'pglite', redis: true },
  { backend: 'postgres', redis: false },
  { backend: 'postgres', redis: true },
];

/** `pglite`, `postgres+redis`, ... for test names. */
export const specName = (spec: BackendSpec) => `${spec.backend}${spec.redis ? '+redis' : ''}`;

/** A Redis key prefix unique to this run (the app's REDIS_KEY_PREFIX allows no colons). */
export function redisPrefix(label: string): string {
  return `e2e-${label.replace(/[^A-Za-z0-9]/g, '')}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Storage for one app (or several sharing it). */
export interface Storage {
  readonly spec: BackendSpec;
  /** DATABASE_URL / PGLITE_DATA_DIR / REDIS_URL / REDIS_KEY_PREFIX for the app. */
  readonly env: Record<string, string>;
  /** A scratch folder (spool files, PGlite data), removed at the end. */
  readonly dir: string;
  /** The PostgreSQL database's direct URL (not through the proxy). */
  readonly databaseUrl: string | undefined;
  /** The proxy between the app and PostgreSQL, with `databaseProxy: true`. */
  readonly proxy: TcpProxy | undefined;
  readonly redisPrefix: string | undefined;
  /** Drops the database, deletes this prefix's Redis keys, removes the folder. */
  release(): Promise<void>;
}

/** Options of {@link openStorage}. */
export interface StorageOptions {
  /** PGlite in a folder instead of `memory://` (the embedded default). */
  readonly pgliteOnDisk?: boolean | undefined;
  /** Put a TCP proxy between the app and PostgreSQL (`cut()`, `hang()`, `restore()`). */
  readonly databaseProxy?: boolean | undefined;
  readonly label?: string | undefined;
}

/** Creates the storage for `spec`. */
export async function openStorage(spec: BackendSpec, options: StorageOptions = {}): Promise<Storage> {
  const label = options.label ?? 'e2e';
  const dir = await mkdtemp(join(tmpdir(), `app-e2e-${label.replace(/[^a-z0-9]/gi, '')}-`));
  const env: Record<string, string> = {};
  let database: TestDatabase | undefined;
  let proxy: TcpProxy | undefined;
  if (spec.backend === 'postgres') {
    database = await migratedPostgresDatabase(label);
    env.DATABASE_URL = database.url;
    if (options.databaseProxy) {
      const target = new URL(database.url);
      proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      env.DATABASE_URL = proxy.url(database.url);
    }
  } else {
    env.PGLITE_DATA_DIR = options.pgliteOnDisk ? join(dir, 'pglite') : 'memory://';
  }
  const prefix = spec.redis ? redisPrefix(label) : undefined;
  if (prefix !== undefined) {
    env.REDIS_URL = redisUrl;
    env.REDIS_KEY_PREFIX = prefix;
  }
  return {
    spec,
    env,
    dir,
    databaseUrl: database?.url,
    proxy,
    redisPrefix: prefix,
    release: async () => {
      await proxy?.close();
      await database?.drop();
      if (prefix !== undefined) await deleteRedisKeys(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes the keys that contain `prefix` (BullMQ's `bull:<prefix>-jobs:*` included). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Every value under `prefix` in Redis, as text (strings, hashes, lists, sets, sorted sets, streams). */
export async function redisValuesAsText(prefix: string): Promise<Array<{ key: string; value: string }>> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const out: Array<{ key: string; value: string }> = [];
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let value: unknown;
        if (type === 'string') value = await redis.get(key);
        else if (type === 'hash') value = await redis.hgetall(key);
        else if (type === 'list') value = await redis.lrange(key, 0, -1);
        else if (type === 'set') value = await redis.smembers(key);
        else if (type === 'zset') value = await redis.zrange(key, '0', '-1');
        else if (type === 'stream') value = await redis.xrange(key, '-', '+');
        out.push({ key, value: JSON.stringify(value) });
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return out;
}
