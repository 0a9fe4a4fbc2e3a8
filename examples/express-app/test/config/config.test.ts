import { describe, expect, it } from 'vitest';
import { isEnvValidationError } from '@hardening/health';
import { loadConfig } from '../../src/config/config.js';

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
      loadConfig({ NODE_ENV: 'production', TWILIO_AUTH_TOKEN: 'tok9x7', ADMIN_PHONE: 'not a phone' });
    } catch (e) {
      error = e;
    }
    expect(isEnvValidationError(error)).toBe(true);
    const message = (error as Error).message;
    for (const name of ['DATABASE_URL', 'PUBLIC_BASE_URL', 'ADMIN_TOKEN', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_NUMBER', 'SLACK_SIGNING_SECRET', 'STRIPE_WEBHOOK_SECRET', 'ADMIN_PHONE']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('not a phone');
    expect(message).not.toContain('tok9x7');
  });

  it('normalises phone numbers and reads flags', () => {
    const config = loadConfig({ TWILIO_NUMBER: '(555) 000-1234', ALERTS_DISABLED: 'true', CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(config.systemNumber).toBe('+15550001234');
    expect(config.env.ALERTS_DISABLED).toBe(true);
    expect(config.env.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });
});
