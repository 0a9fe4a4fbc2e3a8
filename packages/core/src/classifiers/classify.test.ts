import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../errors/timeout-error.js';
import { classifyError, isCallerError } from './classify.js';

const withStatus = (status: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(`HTTP ${status}`), { status, ...extra });

describe('classifyError: one answer for retry and breaker', () => {
  it.each([
    ['a 503', withStatus(503), 'transient'],
    ['a 429', withStatus(429), 'transient'],
    ['a 408', withStatus(408), 'transient'],
    ['a 425', withStatus(425), 'transient'],
    ['our own timeout', new TimeoutError('x', 10), 'transient'],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient'],
    ['a deadlock', { code: '40P01' }, 'transient'],
    ['Prisma P1001', { code: 'P1001' }, 'transient'],
    ['Prisma P2024 (pool timeout)', { code: 'P2024' }, 'transient'],
    ['a 400 with Twilio 21211 (invalid To)', withStatus(400, { code: 21211 }), 'caller'],
    ['Twilio 21610 (unsubscribed), no status', { code: 21610 }, 'caller'],
    ['a 404', withStatus(404), 'caller'],
    ['a 422 on response.status (axios-like)', { response: { status: 422 } }, 'caller'],
    ['a ZodError', Object.assign(new Error('invalid'), { name: 'ZodError' }), 'caller'],
    ['a unique violation (23505)', { code: '23505' }, 'caller'],
    ['an invalid text representation (22P02)', { code: '22P02' }, 'caller'],
    ['Prisma P2002 (unique)', { code: 'P2002' }, 'caller'],
    ['Prisma P2025 (not found)', { code: 'P2025' }, 'caller'],
    ['a caller error wrapped as a cause', new Error('send failed', { cause: withStatus(400, { code: 21211 }) }), 'caller'],
    ['Twilio 30003 (handset unreachable): retried, not counted', { code: 30003 }, 'caller-transient'],
    ['a 400 with Twilio 30007 (carrier filtering the sender)', withStatus(400, { code: 30007 }), 'failure'],
    ['a 400 with Twilio 21408 (region not enabled)', withStatus(400, { code: 21408 }), 'failure'],
    ['a 401 with Twilio 20003 (bad credentials)', withStatus(401, { code: 20003 }), 'failure'],
    ['a 429 with Twilio 20429', withStatus(429, { code: 20429 }), 'transient'],
    ['a 501', withStatus(501), 'failure'],
    ['a bug', new TypeError('x is undefined'), 'failure'],
    ['a thrown string', 'boom', 'failure'],
  ])('%s is %s', (_label, error, kind) => {
    expect(classifyError(error)).toBe(kind);
  });

  it('isCallerError never calls a rate limit or a timeout status the caller fault', () => {
    for (const status of [408, 425, 429]) expect(isCallerError(withStatus(status))).toBe(false);
    expect(isCallerError(withStatus(401))).toBe(true);
  });
});
