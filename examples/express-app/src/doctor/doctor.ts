import { envSchema, type Env } from '../config/env-schema.js';
import {
  adminTokenItem,
  alertItems,
  databaseItems,
  environmentItems,
  redisItem,
  sentryItem,
  slackItems,
  twilioItems,
  webhookSecretItems,
  type DoctorItem,
  type PartialEnv,
} from './doctor-checks.js';

export type { DoctorItem } from './doctor-checks.js';

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Per remote call (database, Redis, Twilio, Slack). @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Reads each variable on its own, so one malformed variable does not hide the rest of the
 * report: the ones that parse are checked, the others are listed (name and reason only).
 */
function readEnv(source: Readonly<Record<string, string | undefined>>): { env: PartialEnv; malformed: string[] } {
  const env: Record<string, unknown> = {};
  const malformed: string[] = [];
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const raw = source[name] === '' ? undefined : source[name];
    const parsed = schema.safeParse(raw);
    if (parsed.success) env[name] = parsed.data;
    else malformed.push(`${name} ${parsed.error.issues[0]?.message ?? 'is malformed'}`);
  }
  return { env: env as Partial<Env>, malformed };
}

/**
 * The production-readiness report: environment, database and migrations, Redis, Twilio
 * (account and numbers), Slack, Sentry, alerts, admin token and webhook secrets. Every
 * remote check runs against the configured endpoints (TWILIO_API_BASE_URL, SLACK_API_URL)
 * under `timeoutMs`. Values of secrets never appear in the items.
 *
 * @param source - The environment (process.env).
 * @returns The items, in report order.
 */
export async function runDoctor(source: Readonly<Record<string, string | undefined>>, options: DoctorOptions = {}): Promise<DoctorItem[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const { env, malformed } = readEnv(source);
  const items: DoctorItem[] = [...environmentItems(env, source, malformed)];
  const database = await databaseItems(env, timeoutMs);
  items.push(...database.items);
  try {
    const [redis, twilio, slack] = await Promise.all([redisItem(env, timeoutMs), twilioItems(env, database.session, timeoutMs), slackItems(env, timeoutMs)]);
    items.push(redis, ...twilio, ...slack);
  } finally {
    await database.session?.end().catch(() => {});
  }
  items.push(sentryItem(env), ...alertItems(env), adminTokenItem(env), ...webhookSecretItems(env));
  return items;
}

/** The report as text: one `PASS|WARN|FAIL  name  detail` line per item and a summary. */
export function formatReport(items: readonly DoctorItem[]): string {
  const width = Math.max(...items.map((item) => item.name.length));
  const lines = items.map((item) => `${item.status}  ${item.name.padEnd(width)}  ${item.detail}`);
  const count = (status: DoctorItem['status']) => items.filter((item) => item.status === status).length;
  const failed = count('FAIL');
  lines.push('', `${count('PASS')} PASS, ${count('WARN')} WARN, ${failed} FAIL: ${failed === 0 ? 'ready for production' : 'not ready for production'}`);
  return lines.join('\n');
}

/** Exit code for the report: 1 on any FAIL. */
export function exitCodeFor(items: readonly DoctorItem[]): number {
  return items.some((item) => item.status === 'FAIL') ? 1 : 0;
}
