// `pnpm doctor` against real servers: PostgreSQL, Redis, and the real twilio and Slack SDKs
// talking to local fakes through TWILIO_API_BASE_URL and SLACK_API_URL. A passing and a
// failing configuration run the script itself (exit code, output); variants run in-process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, BreakerRegistry, createSafeCall } from '@hardening/core';
import {
  createTestDatabase,
  freePort,
  redisUrl,
  requirePostgres,
  requireRedis,
  startFakeSlack,
  startFakeTwilioAccount,
  type FakeSlack,
  type FakeTwilioAccount,
  type TestDatabase,
} from '@hardening/test-support';
import { openDatabase } from '../../src/db/database.js';
import { requiredInProduction } from '../../src/config/env-schema.js';
import { developmentView, exitCodeFor, runDoctor } from '../../src/doctor/doctor.js';
import { migratedPostgresDatabase } from '../support/databases.js';

const up = (await requirePostgres()) && (await requireRedis());
const appDir = fileURLToPath(new URL('../..', import.meta.url));

const publicBaseUrl = 'https://assistant.example.com';
const systemNumber = '+15557770001';
const poolNumber = '+15557770002';
const secrets = {
  ADMIN_TOKEN: 'Zq8v-Rk2mW7pLx4nTc9bJh3sYd6fGa1e',
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-doctorgoodtoken',
  SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543',
  STRIPE_WEBHOOK_SECRET: 'whsec_doctorTestSecretValue0123456789',
  SENTRY_KEY: '0123456789abcdef0123456789abcdef',
};

function runScript(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // Only what the test sets: the doctor must not see the test runner's DATABASE_URL etc.
    const child = spawn(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', 'scripts/doctor.ts'], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const statusOf = (output: string, name: string) => new RegExp(`^(PASS|WARN|FAIL)  ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`, 'm').exec(output)?.[1];

describe.skipIf(!up)('pnpm doctor', () => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  let twilio: FakeTwilioAccount;
  let slack: FakeSlack;
  let good: Record<string, string>;

  beforeAll(async () => {
    [migrated, empty] = await Promise.all([migratedPostgresDatabase('doctor_ok'), createTestDatabase('doctor_empty')]);
    const db = await openDatabase({
      databaseUrl: migrated.url,
      logger: silentLogger,
      safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }),
    });
    await db.prisma.poolNumber.create({ data: { phoneNumber: poolNumber } });
    await db.close();
    twilio = await startFakeTwilioAccount({
      numbers: [
        { phoneNumber: systemNumber, smsUrl: `${publicBaseUrl}/sms` },
        { phoneNumber: poolNumber, smsUrl: `${publicBaseUrl}/sms` },
      ],
    });
    slack = await startFakeSlack({ tokens: [secrets.SLACK_BOT_TOKEN] });
    good = {
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: publicBaseUrl,
      DATABASE_URL: migrated.url,
      REDIS_URL: redisUrl,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM_NUMBER: systemNumber,
      TWILIO_API_BASE_URL: twilio.url,
      SLACK_BOT_TOKEN: secrets.SLACK_BOT_TOKEN,
      SLACK_SIGNING_SECRET: secrets.SLACK_SIGNING_SECRET,
      SLACK_ALERT_CHANNEL: '#alerts',
      SLACK_API_URL: slack.apiUrl,
      STRIPE_WEBHOOK_SECRET: secrets.STRIPE_WEBHOOK_SECRET,
      SENTRY_DSN: `https://${secrets.SENTRY_KEY}@o1.ingest.sentry.io/4505`,
      ADMIN_TOKEN: secrets.ADMIN_TOKEN,
      ALERT_SMS_TO: '+15557770999',
    };
  });
  afterAll(async () => {
    await twilio?.close();
    await slack?.close();
    await migrated?.drop();
    await empty?.drop();
  });

  const secretValues = () => [...Object.values(secrets), twilio.authToken, migrated.url, '15557770999', systemNumber.slice(1)];

  it('passes a production-ready configuration: every item PASS, exit 0, no secret printed', async () => {
    const { code, output } = await runScript(good);
    expect(output).not.toMatch(/^FAIL/m);
    expect(output).not.toMatch(/^WARN/m);
    for (const name of [
      'Required variables',
      'Public URL',
      'Database',
      'Migrations',
      'Redis',
      'Twilio credentials',
      'Twilio numbers',
      'Number pool',
      'Slack',
      'Sentry DSN',
      'Alerts',
      'Admin token',
      'Webhook secret STRIPE_WEBHOOK_SECRET',
    ]) {
      expect(statusOf(output, name), `${name}\n${output}`).toBe('PASS');
    }
    expect(output).toMatch(/0 FAIL: ready for production/);
    expect(code).toBe(0);
    for (const secret of secretValues()) expect(output).not.toContain(secret);
    // The SDKs really called the fakes.
    expect(twilio.requests.map((r) => r.path)).toEqual(
      expect.arrayContaining([`/2010-04-01/Accounts/${twilio.accountSid}.json`, `/2010-04-01/Accounts/${twilio.accountSid}/IncomingPhoneNumbers.json`]),
    );
    expect(slack.requests.map((r) => r.path)).toContain('/api/auth.test');
  });

  it('fails a broken configuration item by item, exits 1, and still prints no secret', async () => {
    const closedPort = await freePort();
    const { code, output } = await runScript({
      ...good,
      PUBLIC_BASE_URL: 'http://assistant.example.com',
      DATABASE_URL: empty.url,
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      TWILIO_AUTH_TOKEN: 'wrong-token-0123456789abcdef',
      SLACK_BOT_TOKEN: 'xoxb-9999-revoked-token',
      SENTRY_DSN: 'https://sentry.example.com/not-a-project',
      ALERTS_DISABLED: 'true',
      ADMIN_TOKEN: 'password-password-password-1',
      STRIPE_WEBHOOK_SECRET: '',
    });
    const expectations: Record<string, string> = {
      'Public URL': 'FAIL',
      Database: 'PASS',
      Migrations: 'FAIL',
      Redis: 'FAIL',
      'Twilio credentials': 'FAIL',
      Slack: 'FAIL',
      'Sentry DSN': 'FAIL',
      Alerts: 'FAIL',
      'Admin token': 'FAIL',
      'Webhook secret STRIPE_WEBHOOK_SECRET': 'FAIL',
      'Required variables': 'FAIL',
    };
    for (const [name, status] of Object.entries(expectations)) expect(statusOf(output, name), `${name}\n${output}`).toBe(status);
    expect(output).toMatch(/Twilio credentials\s+rejected by Twilio \(401\)/);
    expect(output).toMatch(/Slack\s+auth\.test refused: invalid_auth/);
    expect(output).toMatch(/Redis\s+unreachable: connect ECONNREFUSED/);
    expect(output).toMatch(/Migrations\s+\d+ pending: 20261126000000_init/);
    expect(output).toMatch(/missing: STRIPE_WEBHOOK_SECRET/);
    expect(output).toMatch(/not ready for production/);
    expect(code).toBe(1);
    for (const secret of [...secretValues(), 'wrong-token-0123456789abcdef', 'xoxb-9999-revoked-token', 'password-password-password-1'])
      expect(output).not.toContain(secret);
  });

  it('reports numbers that are not on the Twilio account, and a webhook URL pointing elsewhere', async () => {
    const other = await startFakeTwilioAccount({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      numbers: [{ phoneNumber: systemNumber, smsUrl: 'https://old-host.example.com/sms' }],
      type: 'Trial',
    });
    try {
      const items = await runDoctor({ ...good, TWILIO_API_BASE_URL: other.url });
      const byName = (name: string) => items.find((i) => i.name === name);
      expect(byName('Twilio credentials')).toMatchObject({ status: 'WARN', detail: expect.stringContaining('trial') });
      expect(byName('Twilio SMS webhook')).toMatchObject({ status: 'WARN', detail: expect.stringContaining('old-host.example.com') });
      expect(byName('Number pool')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('1 pool number(s) not on this Twilio account') });
      expect(byName('Number pool')?.detail).not.toContain(poolNumber);
      const missing = await runDoctor({ ...good, TWILIO_FROM_NUMBER: '+15557770055' });
      expect(missing.find((i) => i.name === 'Twilio numbers')).toMatchObject({
        status: 'FAIL',
        detail: expect.stringContaining('is not a number of this account'),
      });
    } finally {
      await other.close();
    }
  });

  it('reports malformed variables by name without failing the rest of the report, and a short admin token as a warning', async () => {
    const items = await runDoctor({ ...good, PORT: 'eighty', TWILIO_ACCOUNT_SID: 'not-a-sid', ADMIN_TOKEN: 'Zq8v-Rk2mW7pLx4nTc9bJh3s' });
    const env = items.find((i) => i.name === 'Environment');
    expect(env?.status).toBe('FAIL');
    expect(env?.detail).toMatch(/PORT .*; TWILIO_ACCOUNT_SID must look like AC/);
    expect(env?.detail).not.toContain('not-a-sid');
    expect(items.find((i) => i.name === 'Database')?.status).toBe('PASS');
    expect(items.find((i) => i.name === 'Admin token')).toMatchObject({ status: 'WARN', detail: '24 characters: 32 or more recommended' });
  });

  it('reports an unreachable database', async () => {
    const closedPort = await freePort();
    const items = await runDoctor({ ...good, DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort}/nothing` }, { timeoutMs: 3000 });
    expect(items.find((i) => i.name === 'Database')).toMatchObject({ status: 'FAIL', detail: expect.stringMatching(/^unreachable: /) });
    expect(items.find((i) => i.name === 'Migrations')).toBeUndefined();
    // The rest of the report still ran.
    expect(items.find((i) => i.name === 'Slack')?.status).toBe('PASS');
  });
});

describe('pnpm run doctor in development (the default)', () => {
  it('says what works locally and what production will need, each missing variable once, and exits 0', async () => {
    const { code, output } = await runScript({});
    expect(output).toContain('Development check (NODE_ENV=development)');
    const [local = '', production = ''] = output.split('Production will need');
    expect(local).toMatch(/^PASS {2}Database\s+embedded PGlite/m);
    expect(local).toMatch(/^PASS {2}Twilio credentials\s+simulated by pnpm start/m);
    for (const name of requiredInProduction) {
      expect(
        production.split('\n').filter((line) => line.includes(name)),
        `${name}\n${output}`,
      ).toHaveLength(1);
    }
    expect(output).not.toMatch(/^FAIL/m);
    expect(output).toMatch(/Fine for development \(\d+ to do before production\)/);
    expect(code).toBe(0);
  }, 60_000);

  it('names the real missing variable when TWILIO_AUTH_TOKEN is set alone', async () => {
    const view = developmentView(await runDoctor({ TWILIO_AUTH_TOKEN: 'f'.repeat(32) }, { timeoutMs: 2000 }));
    expect(view.forProduction.find((item) => item.name === 'TWILIO_ACCOUNT_SID')?.detail).toBe(
      'not set: Twilio needs both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, so SMS are not sent',
    );
    expect(view.forProduction.some((item) => item.name.includes('TWILIO_AUTH_TOKEN'))).toBe(false);
  });

  it('keeps a configured service that does not answer a FAIL (it breaks the app locally too)', async () => {
    const closedPort = await freePort();
    const view = developmentView(await runDoctor({ REDIS_URL: `redis://127.0.0.1:${closedPort}` }, { timeoutMs: 2000 }));
    expect(view.local.find((item) => item.name === 'Redis')?.status).toBe('FAIL');
    expect(exitCodeFor(view.local)).toBe(1);
  });
});
