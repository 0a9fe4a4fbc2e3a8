import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { isHardeningError } from '@hardening/core';
import { EnvValidationError, isEnvValidationError } from './errors/env-validation-error.js';
import { validateEnv } from './validate-env.js';

const schema = z.object({
  DATABASE_URL: z.url(),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  TWILIO_AUTH_TOKEN: z.string().min(32),
  HEALTH_ADMIN_TOKEN: z.string().min(16),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional(),
});

describe('validateEnv', () => {
  it('returns the parsed, typed values with defaults applied', () => {
    const config = validateEnv(schema, {
      env: { DATABASE_URL: 'postgresql://db/app', TWILIO_AUTH_TOKEN: 'a'.repeat(32), HEALTH_ADMIN_TOKEN: 'b'.repeat(16), PORT: '8080', OTHER: 'x' },
    });
    expect(config).toEqual({
      DATABASE_URL: 'postgresql://db/app',
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 8080,
      TWILIO_AUTH_TOKEN: 'a'.repeat(32),
      HEALTH_ADMIN_TOKEN: 'b'.repeat(16),
    });
    const port: number = config.PORT;
    expect(port).toBe(8080);
  });

  it('one error names every missing and every malformed variable, and no value', () => {
    const secret = 'short-secret-+15551234567';
    let caught: unknown;
    try {
      validateEnv(schema, { env: { DATABASE_URL: 'not a url', PORT: 'eighty', TWILIO_AUTH_TOKEN: secret, HEALTH_ADMIN_TOKEN: '', LOG_LEVEL: 'loud' } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvValidationError);
    expect(isEnvValidationError(caught)).toBe(true);
    expect(isHardeningError(caught)).toBe(true);
    const error = caught as EnvValidationError;
    expect(error.code).toBe('ENV_INVALID');
    expect(error.problems.map((p) => [p.name, p.kind])).toEqual([
      ['DATABASE_URL', 'malformed'],
      ['PORT', 'malformed'],
      ['TWILIO_AUTH_TOKEN', 'malformed'],
      ['HEALTH_ADMIN_TOKEN', 'missing'],
      ['LOG_LEVEL', 'malformed'],
    ]);
    expect(error.message.split('\n')[0]).toBe('Invalid environment (1 missing, 4 malformed):');
    expect(error.message).toContain('  - HEALTH_ADMIN_TOKEN: missing');
    expect(error.message).toMatch(/ {2}- PORT: malformed \(.+\)/);
    expect(error.message).not.toContain('not a url');
    expect(error.message).not.toContain('eighty');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('loud');
  });

  it('empty values count as missing unless emptyAsMissing is false', () => {
    const shape = z.object({ NAME: z.string() });
    expect(() => validateEnv(shape, { env: { NAME: '' } })).toThrow('NAME: missing');
    expect(validateEnv(shape, { env: { NAME: '' }, emptyAsMissing: false })).toEqual({ NAME: '' });
  });

  it('accepts a plain shape of schemas', () => {
    const config = validateEnv({ PORT: z.coerce.number().default(3000), DEBUG: z.enum(['0', '1']).optional() }, { env: { DEBUG: '1' } });
    expect(config).toEqual({ PORT: 3000, DEBUG: '1' });
    expect(() => validateEnv({ PORT: z.coerce.number().int(), HOST: z.string() }, { env: { PORT: '1.5' } })).toThrow(
      /Invalid environment \(1 missing, 1 malformed\):\n {2}- PORT: malformed .*\n {2}- HOST: missing/,
    );
  });

  it('reports object-level refinements under (environment)', () => {
    const refined = z.object({ A: z.string().optional(), B: z.string().optional() }).refine((v) => v.A !== undefined || v.B !== undefined, 'set A or B');
    expect(() => validateEnv(refined, { env: {} })).toThrow('(environment): malformed (set A or B)');
  });

  it('reads process.env by default', () => {
    expect(validateEnv({ PATH: z.string() })).toHaveProperty('PATH');
  });

  it('rejects what is not a schema, and async schemas', () => {
    expect(() => validateEnv('nope' as never)).toThrow(TypeError);
    expect(() => validateEnv({ A: 'x' } as never)).toThrow('Expected `schema.A` to be a Standard Schema');
    const asyncSchema = z.object({ A: z.string().refine(() => Promise.resolve(true)) });
    expect(() => validateEnv(asyncSchema, { env: { A: 'x' } })).toThrow('to validate synchronously');
  });
});
