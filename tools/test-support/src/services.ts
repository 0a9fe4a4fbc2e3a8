import { connect } from 'node:net';

/** Where the shared test servers live, overridable like the apps' own settings. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

const startCommands = {
  Redis: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  PostgreSQL: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
} as const;

/** Opens a TCP connection and resolves true when it connects within the deadline. */
function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function requireServer(kind: keyof typeof startCommands, url: string, defaultPort: number): Promise<boolean> {
  const parsed = new URL(url);
  const ok = await reachable(parsed.hostname || '127.0.0.1', Number(parsed.port || defaultPort));
  if (ok) return true;
  const where = `${parsed.hostname}:${parsed.port || defaultPort}`;
  if (process.env.CI === 'true') {
    throw new Error(`${kind} is not reachable at ${where} and CI=true: start it with \`${startCommands[kind]}\``);
  }
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n!! SKIPPED: ${kind} is not reachable at ${where}.\n!! Tests that need it did not run. Start it with:\n!!   ${startCommands[kind]}\n${line}\n`,
  );
  return false;
}

/**
 * Resolves true when the shared Redis answers. Outside CI a missing server resolves
 * false after a loud notice (use with `describe.skipIf`); with `CI=true` it throws.
 */
export function requireRedis(): Promise<boolean> {
  return requireServer('Redis', redisUrl, 6379);
}

/** Same as {@link requireRedis}, for PostgreSQL at `DATABASE_URL`. */
export function requirePostgres(): Promise<boolean> {
  return requireServer('PostgreSQL', databaseUrl, 5432);
}

/** A prefix unique to this test run, so suites never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}`;
}
