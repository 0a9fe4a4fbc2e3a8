import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isEnvValidationError } from '@hardening/health';
import { deliverabilityFromEnv, developmentDrainDelayMs, loadConfig, simulatedTwilioAccountSid } from '../../src/config/config.js';
import { envSchema } from '../../src/config/env-schema.js';
import { startupSummary } from '../../src/dev/startup-summary.js';

describe('configuration', () => {
  it('runs with no environment at all: PGlite, port 3001, a generated admin token', () => {
    const config = loadConfig({});
    expect(config.env.PORT).toBe(3001);
    expect(config.env.DATABASE_URL).toBeUndefined();
    expect(config.adminTokenGenerated).toBe(true);
    expect(config.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(config.twilio).toBeUndefined();
  });

  it('production refuses to start, naming every missing variable in one message and no value', () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production', TWILIO_AUTH_TOKEN: 'tok9x7', ALERT_SMS_TO: 'not a phone' });
    } catch (e) {
      error = e;
    }
    expect(isEnvValidationError(error)).toBe(true);
    const message = (error as Error).message;
    for (const name of [
      'DATABASE_URL',
      'PUBLIC_BASE_URL',
      'ADMIN_TOKEN',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM_NUMBER',
      'SLACK_SIGNING_SECRET',
      'STRIPE_WEBHOOK_SECRET',
      'ALERT_SMS_TO',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('not a phone');
    expect(message).not.toContain('tok9x7');
  });

  it('normalises phone numbers and reads flags', () => {
    const config = loadConfig({ TWILIO_FROM_NUMBER: '(555) 000-1234', ALERTS_DISABLED: 'true', CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(config.systemNumber).toBe('+15550001234');
    expect(config.env.ALERTS_DISABLED).toBe(true);
    expect(config.env.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it('METRICS_PREFIX: hardening_app_ unless set, none for bare names, a name Prometheus refuses is refused at start', () => {
    expect(loadConfig({}).env.METRICS_PREFIX).toBe('hardening_app_');
    expect(loadConfig({ METRICS_PREFIX: '' }).env.METRICS_PREFIX).toBe('hardening_app_');
    expect(loadConfig({ METRICS_PREFIX: 'none' }).env.METRICS_PREFIX).toBe('');
    expect(loadConfig({ METRICS_PREFIX: 'acme:sms_' }).env.METRICS_PREFIX).toBe('acme:sms_');
    for (const bad of ['9lives_', 'acme-app_', 'acme app']) {
      let error: unknown;
      try {
        loadConfig({ METRICS_PREFIX: bad });
      } catch (e) {
        error = e;
      }
      expect(isEnvValidationError(error), bad).toBe(true);
      expect((error as Error).message).toContain('METRICS_PREFIX');
    }
  });

  it('deliverability thresholds and probe timings come from DELIVERABILITY_*; unset keeps the defaults; nonsense is refused by name', () => {
    expect(loadConfig({}).deliverability).toEqual({});
    const config = loadConfig({ DELIVERABILITY_PROBE_AFTER_MS: '30000', DELIVERABILITY_PROBE_INTERVAL_MS: '15000', DELIVERABILITY_SPIKE_THRESHOLD: '5' });
    expect(config.deliverability).toEqual({ probeAfterMs: 30_000, probeIntervalMs: 15_000, spikeThreshold: 5 });
    expect(deliverabilityFromEnv(config.env)).toEqual(config.deliverability);
    for (const [name, value] of [
      ['DELIVERABILITY_PROBE_INTERVAL_MS', '0'],
      ['DELIVERABILITY_SPIKE_THRESHOLD', '0'],
      ['DELIVERABILITY_PROBE_AFTER_MS', 'soon'],
    ]) {
      let error: unknown;
      try {
        loadConfig({ [name!]: value });
      } catch (e) {
        error = e;
      }
      expect(isEnvValidationError(error)).toBe(true);
      expect((error as Error).message).toContain(name);
    }
  });

  it('a Ctrl-C in development does not wait the production drain; production keeps 5 s; an explicit value wins', () => {
    expect(loadConfig({}).env.SHUTDOWN_DRAIN_DELAY_MS).toBe(developmentDrainDelayMs);
    expect(loadConfig({ SHUTDOWN_DRAIN_DELAY_MS: '1500' }).env.SHUTDOWN_DRAIN_DELAY_MS).toBe(1500);
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://db/app',
      PUBLIC_BASE_URL: 'https://a.example',
      ADMIN_TOKEN: 'Zq8v-Rk2mW7pLx4nTc9bJh3sYd6fGa1e',
      TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'x'.repeat(32),
      TWILIO_FROM_NUMBER: '+15557770001',
      SLACK_SIGNING_SECRET: 's'.repeat(32),
      STRIPE_WEBHOOK_SECRET: 'whsec_abcdefabcdef',
    };
    expect(loadConfig(production).env.SHUTDOWN_DRAIN_DELAY_MS).toBe(5000);
    expect(loadConfig(production, { developmentStandIns: true }).generatedSecrets).toEqual([]);
  });

  it('development stand-ins: webhook secrets generated for the run, Twilio simulated; never outside development', () => {
    const config = loadConfig({}, { developmentStandIns: true });
    expect(config.generatedSecrets).toEqual(['STRIPE_WEBHOOK_SECRET', 'TWILIO_AUTH_TOKEN', 'SLACK_SIGNING_SECRET']);
    expect(config.twilio).toMatchObject({ accountSid: simulatedTwilioAccountSid, simulated: true, apiBaseUrl: undefined });
    expect(config.env.STRIPE_WEBHOOK_SECRET).toMatch(/^whsec_/);
    expect(config.slack.signingSecret).toMatch(/^[0-9a-f]{32}$/);
    const test = loadConfig({ NODE_ENV: 'test' }, { developmentStandIns: true });
    expect(test.generatedSecrets).toEqual([]);
    expect(test.twilio).toBeUndefined();
  });

  it('a lone TWILIO_AUTH_TOKEN is not ignored in silence: the notice names TWILIO_ACCOUNT_SID, and the token checks webhooks', () => {
    const token = 'f'.repeat(32);
    const config = loadConfig({ TWILIO_AUTH_TOKEN: token }, { developmentStandIns: true });
    expect(config.notices).toContain('TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not: Twilio needs both, so SMS are not sent');
    expect(config.twilio).toMatchObject({ authToken: token, simulated: true });
    expect(config.generatedSecrets).not.toContain('TWILIO_AUTH_TOKEN');
    expect(loadConfig({ TWILIO_ACCOUNT_SID: `AC${'2'.repeat(32)}` }).notices).toContain(
      'TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not: Twilio needs both, so SMS are not sent',
    );
    expect(loadConfig({ TWILIO_ACCOUNT_SID: `AC${'2'.repeat(32)}`, TWILIO_AUTH_TOKEN: token }).notices.join('\n')).not.toContain('TWILIO');
  });

  it('the start-up summary: URL, generated token, what is simulated, the next command; no configured secret', () => {
    const config = loadConfig({ SLACK_SIGNING_SECRET: 'configured-signing-secret-0001' }, { developmentStandIns: true });
    const text = startupSummary(config, {
      url: 'http://127.0.0.1:3001',
      database: 'pglite',
      queue: 'in-process',
      seededNumbers: ['+15550001001'],
      sessionFile: '.data/dev-session.json',
    });
    expect(text).toContain('ready at http://127.0.0.1:3001  (development)');
    expect(text).toContain(config.adminToken);
    expect(text).toContain('Twilio     simulated');
    expect(text).toContain('pnpm sim sms +15550001111 "Hi"');
    expect(text).toContain('open http://127.0.0.1:3001/admin');
    expect(text).toContain('Ctrl-C stops at once');
    expect(text).not.toContain('configured-signing-secret-0001');
    expect(text.split('\n').length).toBeLessThan(30);
  });

  it('.env.example lists every variable of the schema, and nothing else', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const listed = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(listed.toSorted()).toEqual(Object.keys(envSchema.shape).toSorted());
  });
});
