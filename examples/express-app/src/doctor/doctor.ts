import { resolveDeprecatedEnv } from '../config/deprecated-env.js';
import { envSchema } from '../config/env-schema.js';
import {
  adminTokenItem,
  alertItems,
  databaseItems,
  deprecationItems,
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
  return { env, malformed };
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
export async function runDoctor(raw: Readonly<Record<string, string | undefined>>, options: DoctorOptions = {}): Promise<DoctorItem[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  // The app reads the deprecated alerting names too (ADMIN_PHONE...): check what it would read.
  const { env: source, deprecations } = resolveDeprecatedEnv(raw);
  const { env, malformed } = readEnv(source);
  const items: DoctorItem[] = [...environmentItems(env, source, malformed), ...deprecationItems(deprecations)];
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

/** Which verdict the doctor gives: production's (NODE_ENV=production) or development's (the default). */
export type DoctorMode = 'production' | 'development';

/**
 * The mode for an environment: production when NODE_ENV is production, development otherwise.
 *
 * @example
 * ```ts
 * doctorMode({ NODE_ENV: 'production' }); // 'production'
 * ```
 */
export function doctorMode(source: Readonly<Record<string, string | undefined>>): DoctorMode {
  return source.NODE_ENV === 'production' ? 'production' : 'development';
}

/** The report split for development: what works locally, and what production will need. */
export interface DevelopmentView {
  /** Checks that matter locally (a configured service that does not answer still FAILs). */
  readonly local: DoctorItem[];
  /** One WARN per unset production variable (each named once) and per production policy. */
  readonly forProduction: DoctorItem[];
}

/**
 * Reads the items for a developer: every unset variable that production requires is listed
 * once (with what `pnpm start` does instead locally), production policies become advice,
 * and only what breaks the app locally stays a FAIL.
 *
 * @example
 * ```ts
 * const view = developmentView(await runDoctor(process.env));
 * console.log(formatDevelopmentReport(view));
 * ```
 */
export function developmentView(items: readonly DoctorItem[]): DevelopmentView {
  const local: DoctorItem[] = [];
  const forProduction: DoctorItem[] = [];
  const named = new Set<string>();
  for (const item of items) {
    if (item.name === 'Required variables' || item.name === 'NODE_ENV') continue;
    if (item.missing !== undefined && item.missing.length > 0) {
      const fresh = item.missing.filter((name) => !named.has(name));
      for (const name of fresh) named.add(name);
      if (item.locally !== undefined && !local.some((l) => l.name === item.name)) local.push({ status: 'PASS', name: item.name, detail: item.locally });
      if (fresh.length > 0)
        forProduction.push({
          status: 'WARN',
          name: fresh.join(', '),
          detail: item.detail.replace(new RegExp(`^${fresh.join(' and ')} not set: `), 'not set: '),
        });
    } else if (item.productionOnly === true) {
      forProduction.push({ ...item, status: 'WARN' });
    } else {
      local.push(item);
    }
  }
  const required = items.find((item) => item.name === 'Required variables');
  for (const name of required?.missing ?? []) {
    if (!named.has(name)) forProduction.push({ status: 'WARN', name, detail: 'not set: production refuses to start without it' });
  }
  return { local, forProduction };
}

/** The development report as text: two sections and a summary that says what the exit code means. */
export function formatDevelopmentReport(view: DevelopmentView): string {
  const all = [...view.local, ...view.forProduction];
  const width = Math.max(0, ...all.map((item) => item.name.length));
  const line = (item: DoctorItem) => `${item.status}  ${item.name.padEnd(width)}  ${item.detail}`;
  const failed = view.local.filter((item) => item.status === 'FAIL').length;
  return [
    'Works locally',
    ...view.local.map(line),
    '',
    'Production will need',
    ...(view.forProduction.length === 0 ? ['(nothing more)'] : view.forProduction.map(line)),
    '',
    failed === 0
      ? `Fine for development (${view.forProduction.length} to do before production). NODE_ENV=production pnpm run doctor gives the production verdict.`
      : `${failed} FAIL: the app will not work locally as configured.`,
  ].join('\n');
}
