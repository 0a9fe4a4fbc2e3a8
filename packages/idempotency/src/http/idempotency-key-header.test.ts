import { describe, expect, it } from 'vitest';
import { parseIdempotencyKeyHeader } from './idempotency-key-header.js';

describe('parseIdempotencyKeyHeader', () => {
  it.each([
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"with space and \\"quotes\\" and \\\\"', 'with space and "quotes" and \\'],
    ['  padded  ', 'padded'],
    [['single'], 'single'],
  ])('reads %j', (value, key) => {
    expect(parseIdempotencyKeyHeader(value)).toEqual({ ok: true, key });
  });

  it.each([
    [undefined, 'missing'],
    ['', 'invalid'],
    ['""', 'invalid'],
    ['"open', 'invalid'],
    ['"bad \\n escape"', 'invalid'],
    ['two words', 'invalid'],
    ['caf\u00e9', 'invalid'],
    ['k'.repeat(256), 'invalid'],
    [['a', 'b'], 'invalid'],
  ])('refuses %j as %s', (value, reason) => {
    expect(parseIdempotencyKeyHeader(value as string)).toMatchObject({ ok: false, reason });
  });
});
