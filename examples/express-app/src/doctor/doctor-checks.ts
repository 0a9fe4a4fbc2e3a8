import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { maskPhoneNumber, scrubText } from '@hardening/core';
import type { EnvDeprecation } from '../config/deprecated-env.js';
import { requiredInProduction, type Env } from '../config/env-schema.js';
import { pendingMigrations, readMigrations } from '../db/migrator.js';
import { postgresSession, type SqlSession } from '../db/sql-session.js';
import { createTwilioClient } from '../providers/twilio-client.js';

/** One line of the report. */
export interface DoctorItem {
  readonly status: 'PASS' | 'WARN' | 'FAIL';
  readonly name: string;
  /** What was found; never a secret's value. */
  readonly detail: string;
  /** The unset variables this item is about (development mode lists each once). */
  readonly missing?: readonly string[];
  /** A production policy (https, remote alert sinks, a strong token): advice only in development. */
  readonly productionOnly?: boolean;
  /** What `pnpm start` does instead locally, when `missing` is unset in development. */
  readonly locally?: string;
}

/** What the checks read: the environment as far as it parsed. */
export type PartialEnv = Partial<Env>;

const pass = (name: string, detail: string): DoctorItem => ({ status: 'PASS', name, detail });
const warn = (name: string, detail: string): DoctorItem => ({ status: 'WARN', name, detail });
const fail = (name: string, detail: string): DoctorItem => ({ status: 'FAIL', name, detail });
/** Adds what development mode needs to know about an item. */
const about = (item: DoctorItem, extra: Pick<DoctorItem, 'missing' | 'productionOnly' | 'locally'>): DoctorItem => ({ ...item, ...extra });

/** The error text for the report: scrubbed of tokens and phone numbers, one line, bounded. */
export function errorText(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown; status?: unknown };
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(error);
  return scrubText(message).replace(/\s+/g, ' ').slice(0, 200);
}

/** Rejects after `ms` (the SDKs' own timeouts are 30 s or more). */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Required variables, NODE_ENV and the public URL. */
export function environmentItems(env: PartialEnv, source: Readonly<Record<string, string | undefined>>, malformed: readonly string[]): DoctorItem[] {
  const items: DoctorItem[] = [];
  const set = (name: string) => source[name] !== undefined && source[name] !== '';
  items.push(malformed.length === 0 ? pass('Environment', 'every variable set is well-formed') : fail('Environment', `malformed: ${malformed.join('; ')}`));
  const missing = requiredInProduction.filter((name) => !set(name));
  items.push(
    missing.length === 0
      ? pass('Required variables', `all ${requiredInProduction.length} set`)
      : about(fail('Required variables', `missing: ${missing.join(', ')}`), { missing }),
  );
  items.push(
    env.NODE_ENV === 'production'
      ? pass('NODE_ENV', 'production')
      : warn('NODE_ENV', `${env.NODE_ENV ?? 'development'}: set NODE_ENV=production so the app refuses to start without its secrets`),
  );
  if (env.PUBLIC_BASE_URL === undefined)
    items.push(
      about(fail('Public URL', 'PUBLIC_BASE_URL not set: providers cannot be told where to call, and signatures are checked against the Host header'), {
        missing: ['PUBLIC_BASE_URL'],
        locally: 'http://127.0.0.1:PORT (signatures are computed over it)',
      }),
    );
  else if (new URL(env.PUBLIC_BASE_URL).protocol !== 'https:')
    items.push(
      about(fail('Public URL', 'PUBLIC_BASE_URL is not https: webhooks and admin tokens would cross the internet in clear'), { productionOnly: true }),
    );
  else items.push(pass('Public URL', `https (${new URL(env.PUBLIC_BASE_URL).host})`));
  return items;
}

/**
 * Deprecated variable names (ADMIN_PHONE, SLACK_ALERTS_CHANNEL, TWILIO_NUMBER): one WARN
 * naming each and the variable to set instead (never a value).
 *
 * @example
 * ```ts
 * deprecationItems([{ variable: 'ADMIN_PHONE', use: 'ALERT_SMS_TO', outcome: 'read' }]);
 * ```
 */
export function deprecationItems(deprecations: readonly EnvDeprecation[]): DoctorItem[] {
  if (deprecations.length === 0) return [];
  const detail = deprecations
    .map(({ variable, use, outcome }) => (outcome === 'read' ? `${variable}: rename to ${use}` : `${variable}: ignored (${use} is set), remove it`))
    .join('; ');
  return [warn('Deprecated variables', detail)];
}

/** Webhook secrets: a missing one means every webhook of that provider is refused. */
export function webhookSecretItems(env: PartialEnv): DoctorItem[] {
  const secrets: Array<[string, unknown, string]> = [
    ['TWILIO_AUTH_TOKEN', env.TWILIO_AUTH_TOKEN, 'Twilio'],
    ['SLACK_SIGNING_SECRET', env.SLACK_SIGNING_SECRET, 'Slack'],
    ['STRIPE_WEBHOOK_SECRET', env.STRIPE_WEBHOOK_SECRET, 'Stripe'],
  ];
  return secrets.map(([name, value, provider]) =>
    value === undefined
      ? about(fail(`Webhook secret ${name}`, `not set: every ${provider} webhook would be refused with 403`), {
          missing: [name],
          locally: 'generated for each run by pnpm start (pnpm sim signs with it)',
        })
      : pass(`Webhook secret ${name}`, 'set'),
  );
}

const weakWords = /(password|changeme|secret|admin|token|letmein|123456|qwerty|example)/i;

/** The admin token's strength (length and variety), never its value. */
export function adminTokenItem(env: PartialEnv): DoctorItem {
  const token = env.ADMIN_TOKEN;
  const name = 'Admin token';
  if (token === undefined)
    return about(fail(name, 'ADMIN_TOKEN not set (development generates one per run; production refuses to start)'), {
      missing: ['ADMIN_TOKEN'],
      locally: 'generated for each run and printed by pnpm start',
    });
  const distinct = new Set(token).size;
  if (distinct < 10 || weakWords.test(token))
    return about(
      fail(
        name,
        `weak: ${token.length} characters, ${distinct} distinct${weakWords.test(token) ? ', contains a dictionary word' : ''}; use e.g. \`openssl rand -base64 32\``,
      ),
      { productionOnly: true },
    );
  if (token.length < 32) return about(warn(name, `${token.length} characters: 32 or more recommended`), { productionOnly: true });
  return pass(name, `${token.length} characters, ${distinct} distinct`);
}

/** The Sentry DSN's shape: `https://<public key>@<host>/<project id>`. */
export function sentryItem(env: PartialEnv): DoctorItem {
  const name = 'Sentry DSN';
  if (env.SENTRY_DSN === undefined) return about(warn(name, 'SENTRY_DSN not set: errors are not reported to Sentry'), { productionOnly: true });
  let dsn: URL;
  try {
    dsn = new URL(env.SENTRY_DSN);
  } catch {
    return fail(name, 'malformed: not a URL');
  }
  const project = dsn.pathname.split('/').filter(Boolean).at(-1);
  const problems = [
    ...(dsn.protocol === 'https:' || dsn.protocol === 'http:' ? [] : ['scheme must be https']),
    ...(/^[0-9a-f]{16,64}$/i.test(dsn.username) ? [] : ['no public key before the @']),
    ...(project !== undefined && /^\d+$/.test(project) ? [] : ['no numeric project id at the end of the path']),
  ];
  if (problems.length > 0) return fail(name, `malformed: ${problems.join(', ')}`);
  return dsn.protocol === 'https:'
    ? pass(name, `well-formed (project ${project} at ${dsn.host})`)
    : warn(name, `well-formed but http (project ${project} at ${dsn.host})`);
}

/** Whether alerts reach a person: not disabled, and at least one remote sink. */
export function alertItems(env: PartialEnv): DoctorItem[] {
  const name = 'Alerts';
  if (env.ALERTS_DISABLED === true) return [about(fail(name, 'ALERTS_DISABLED is set: nobody would hear about the next outage'), { productionOnly: true })];
  const sinks = [
    ...(env.ALERT_SMS_TO !== undefined && env.TWILIO_ACCOUNT_SID !== undefined && env.TWILIO_AUTH_TOKEN !== undefined
      ? [`SMS to ALERT_SMS_TO (${env.ALERT_SMS_TO.length} number(s))`]
      : []),
    ...(env.SLACK_BOT_TOKEN !== undefined && env.SLACK_ALERT_CHANNEL !== undefined ? ['Slack'] : []),
    ...(env.SENTRY_DSN !== undefined && sentryItem(env).status !== 'FAIL' ? ['Sentry'] : []),
  ];
  if (sinks.length === 0)
    return [
      about(fail(name, 'no remote sink (ALERT_SMS_TO with Twilio, SLACK_ALERT_CHANNEL with SLACK_BOT_TOKEN, or SENTRY_DSN): alerts only reach the logs'), {
        productionOnly: true,
      }),
    ];
  const items = [pass(name, `enabled, to ${sinks.join(', ')}`)];
  if (env.ALERT_SMS_TO === undefined)
    items.push(about(warn('Alert SMS', 'ALERT_SMS_TO not set: HIGH alerts are not texted to anyone'), { productionOnly: true }));
  return items;
}

/** PostgreSQL reachable and migrated; the session is handed on for later checks. */
export async function databaseItems(env: PartialEnv, timeoutMs: number): Promise<{ items: DoctorItem[]; session: SqlSession | undefined }> {
  if (env.DATABASE_URL === undefined) {
    return {
      items: [
        about(fail('Database', 'DATABASE_URL not set: the app would run on embedded PGlite (one instance, local disk)'), {
          missing: ['DATABASE_URL'],
          locally: 'embedded PGlite in PGLITE_DATA_DIR, migrated at start',
        }),
      ],
      session: undefined,
    };
  }
  let session: SqlSession;
  const started = performance.now();
  try {
    session = await withTimeout(postgresSession(env.DATABASE_URL), timeoutMs, 'PostgreSQL');
    await withTimeout(session.query('SELECT 1'), timeoutMs, 'PostgreSQL');
  } catch (error) {
    return { items: [fail('Database', `unreachable: ${errorText(error)}`)], session: undefined };
  }
  const items = [pass('Database', `reachable (${Math.round(performance.now() - started)} ms)`)];
  try {
    const onDisk = readMigrations();
    const pending = await withTimeout(pendingMigrations(session, onDisk), timeoutMs, 'PostgreSQL');
    items.push(
      pending.length === 0
        ? pass('Migrations', `all ${onDisk.length} applied`)
        : fail('Migrations', `${pending.length} pending: ${pending.join(', ')} (the app applies them at start; or run pnpm db:migrate)`),
    );
  } catch (error) {
    items.push(fail('Migrations', `could not be read: ${errorText(error)}`));
  }
  return { items, session };
}

/** Redis PING (optional for one instance, needed for several). */
export async function redisItem(env: PartialEnv, timeoutMs: number): Promise<DoctorItem> {
  if (env.REDIS_URL === undefined)
    return warn('Redis', 'REDIS_URL not set: fine for one instance; several need it (idempotency, rate limits, breakers, queue)');
  const redis = new Redis(env.REDIS_URL, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The connection error says more ("ECONNREFUSED") than the rejected connect ("Connection is closed").
  let connectionError: unknown;
  redis.on('error', (error) => {
    connectionError ??= error;
  });
  const started = performance.now();
  try {
    await withTimeout(redis.connect(), timeoutMs, 'Redis');
    // ioredis types the answer as 'PONG'; a proxy or another server in the way may say otherwise.
    const pong: string = await withTimeout(redis.ping(), timeoutMs, 'Redis');
    return pong === 'PONG' ? pass('Redis', `PING answered (${Math.round(performance.now() - started)} ms)`) : fail('Redis', `PING answered ${pong}`);
  } catch (error) {
    return fail('Redis', `unreachable: ${errorText(connectionError ?? error)}`);
  } finally {
    redis.disconnect();
  }
}

/** Twilio: the credentials fetch the account; TWILIO_FROM_NUMBER (and the pool) are numbers of it. */
export async function twilioItems(env: PartialEnv, session: SqlSession | undefined, timeoutMs: number): Promise<DoctorItem[]> {
  if (env.TWILIO_ACCOUNT_SID === undefined || env.TWILIO_AUTH_TOKEN === undefined) {
    // Name the half that is missing: one without the other used to be ignored in silence.
    const missing = [
      ...(env.TWILIO_ACCOUNT_SID === undefined ? ['TWILIO_ACCOUNT_SID'] : []),
      ...(env.TWILIO_AUTH_TOKEN === undefined ? ['TWILIO_AUTH_TOKEN'] : []),
    ];
    const detail =
      missing.length === 2
        ? 'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN not set: SMS are not sent without them'
        : `${missing[0]} not set: Twilio needs both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, so SMS are not sent`;
    return [about(fail('Twilio credentials', detail), { missing, locally: 'simulated by pnpm start: SMS are printed, not sent' })];
  }
  const client = createTwilioClient(env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_API_BASE_URL);
  const items: DoctorItem[] = [];
  try {
    const account = await withTimeout(client.api.v2010.accounts(env.TWILIO_ACCOUNT_SID).fetch(), timeoutMs, 'Twilio');
    if (account.status !== 'active') items.push(fail('Twilio credentials', `account is ${account.status}`));
    else if (account.type === 'Trial') items.push(warn('Twilio credentials', 'trial account: it can text verified numbers only'));
    else items.push(pass('Twilio credentials', `account active (${account.type})`));
  } catch (error) {
    const status = (error as { status?: number }).status;
    return [
      fail(
        'Twilio credentials',
        status === 401 ? 'rejected by Twilio (401): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN' : `Twilio unreachable: ${errorText(error)}`,
      ),
    ];
  }
  let owned: Array<{ phoneNumber: string; smsUrl: string | null }>;
  try {
    owned = await withTimeout(client.incomingPhoneNumbers.list({ limit: 1000 }), timeoutMs, 'Twilio');
  } catch (error) {
    return [...items, fail('Twilio numbers', `could not list the account's numbers: ${errorText(error)}`)];
  }
  const numbers = new Map(owned.map((n) => [n.phoneNumber, n]));
  const system = env.TWILIO_FROM_NUMBER === undefined ? undefined : numbers.get(env.TWILIO_FROM_NUMBER);
  if (env.TWILIO_FROM_NUMBER === undefined)
    items.push(
      about(fail('Twilio numbers', 'TWILIO_FROM_NUMBER not set: owners have no number to onboard with'), {
        missing: ['TWILIO_FROM_NUMBER'],
        locally: '+15550000000 (a development placeholder)',
      }),
    );
  else if (system === undefined)
    items.push(
      fail('Twilio numbers', `TWILIO_FROM_NUMBER (${maskPhoneNumber(env.TWILIO_FROM_NUMBER)}) is not a number of this account (${owned.length} found)`),
    );
  else {
    items.push(pass('Twilio numbers', `TWILIO_FROM_NUMBER is on the account (${owned.length} number(s) in all)`));
    const expected = env.PUBLIC_BASE_URL === undefined ? undefined : `${env.PUBLIC_BASE_URL.replace(/\/+$/, '')}/sms`;
    if (expected !== undefined && system.smsUrl !== expected) {
      items.push(warn('Twilio SMS webhook', `TWILIO_FROM_NUMBER sends inbound SMS to ${system.smsUrl ?? 'nowhere'}, not ${expected}`));
    }
  }
  if (session !== undefined) {
    try {
      const pool = await withTimeout(session.query<{ phone_number: string }>(`SELECT "phone_number" FROM "pool_numbers"`), timeoutMs, 'PostgreSQL');
      const foreign = pool.map((row) => row.phone_number).filter((n) => !numbers.has(n));
      if (foreign.length > 0)
        items.push(fail('Number pool', `${foreign.length} pool number(s) not on this Twilio account: ${foreign.slice(0, 5).map(maskPhoneNumber).join(', ')}`));
      else items.push(pass('Number pool', `${pool.length} pool number(s), all on the account`));
    } catch (error) {
      items.push(warn('Number pool', `could not be read: ${errorText(error)}`));
    }
  }
  return items;
}

/** Slack `auth.test` with the bot token (SLACK_API_URL honoured). */
export async function slackItems(env: PartialEnv, timeoutMs: number): Promise<DoctorItem[]> {
  if (env.SLACK_BOT_TOKEN === undefined)
    return [about(warn('Slack', 'SLACK_BOT_TOKEN not set: no Slack alerts, no permalinks for signals'), { productionOnly: true })];
  const client = new WebClient(env.SLACK_BOT_TOKEN, {
    ...(env.SLACK_API_URL === undefined ? {} : { slackApiUrl: env.SLACK_API_URL }),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
  });
  const items: DoctorItem[] = [];
  try {
    const auth = await withTimeout(client.auth.test(), timeoutMs, 'Slack');
    items.push(pass('Slack', `auth.test ok: ${auth.user ?? 'bot'} in ${auth.team ?? 'the workspace'}`));
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    items.push(fail('Slack', code === undefined ? `auth.test failed: ${errorText(error)}` : `auth.test refused: ${code}`));
  }
  if (env.SLACK_ALERT_CHANNEL === undefined)
    items.push(about(warn('Slack alerts channel', 'SLACK_ALERT_CHANNEL not set: alerts are not posted to Slack'), { productionOnly: true }));
  return items;
}
