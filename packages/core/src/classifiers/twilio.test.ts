import { describe, expect, it } from 'vitest';
import { classifyError, isCallerError } from './classify.js';
import { classifyTwilioError, twilioErrorCodeOf } from './twilio.js';
import { twilioErrorCodes } from './twilio-error-codes.js';

const restException = (status: number, code: number) =>
  Object.assign(new Error(`Twilio ${code}`), { name: 'RestException', status, code, moreInfo: `https://www.twilio.com/docs/errors/${code}` });

describe('classifyTwilioError: the table', () => {
  it.each([
    // code, scope, kind, what safeCall does with it
    [21211, 'recipient', 'terminal', 'caller'],
    [21610, 'recipient', 'terminal', 'caller'],
    [21614, 'recipient', 'terminal', 'caller'],
    [30005, 'recipient', 'terminal', 'caller'],
    [30006, 'recipient', 'terminal', 'caller'],
    [30003, 'recipient', 'transient', 'caller-transient'],
    [30008, 'recipient', 'transient', 'caller-transient'],
    [21602, 'message', 'terminal', 'caller'],
    [30007, 'sender', 'systemic', 'failure'],
    [30034, 'sender', 'systemic', 'failure'],
    [30032, 'sender', 'systemic', 'failure'],
    [21408, 'sender', 'systemic', 'failure'],
    [20003, 'account', 'systemic', 'failure'],
    [20429, 'account', 'transient', 'transient'],
  ] as const)('%i is %s / %s, which safeCall treats as %s', (code, scope, kind, failureKind) => {
    const c = classifyTwilioError(code);
    expect(c).toMatchObject({ code, scope, kind, failureKind, source: `https://www.twilio.com/docs/api/errors/${code}` });
    expect(classifyError(restException(400, code))).toBe(failureKind);
  });

  it("every entry cites its page in Twilio's error dictionary and says why", () => {
    expect(twilioErrorCodes.size).toBeGreaterThanOrEqual(30);
    for (const [code, entry] of twilioErrorCodes) {
      const c = classifyTwilioError(code);
      expect(c.source).toBe(`https://www.twilio.com/docs/api/errors/${code}`);
      expect(c.reason).toBe(entry.reason);
      expect(c.reason.length).toBeGreaterThan(10);
      expect(c.failureKind).toBeDefined();
      expect(Object.isFrozen(c)).toBe(true);
    }
  });

  it('only per-recipient transient codes carry a bound, and it is small', () => {
    for (const code of twilioErrorCodes.keys()) {
      const c = classifyTwilioError(code);
      if (c.scope === 'recipient' && c.kind === 'transient') expect(c.maxAttempts).toBe(2);
      else expect(c.maxAttempts).toBeUndefined();
    }
  });

  it('a sender or account problem is never a caller error, though Twilio answers it with a 4xx', () => {
    for (const code of [30007, 30034, 30032, 21408, 20003]) expect(isCallerError(restException(code === 20003 ? 401 : 400, code))).toBe(false);
    for (const code of [21211, 21610, 30003]) expect(isCallerError(restException(400, code))).toBe(true);
  });
});

describe('classifyTwilioError: what it reads', () => {
  it.each([
    ['a number', 30007],
    ["a status callback's ErrorCode string", '30007'],
    ['a padded string', ' 30007 '],
    ['a RestException', restException(400, 30007)],
    ['an error whose cause is the RestException', new Error('send failed', { cause: restException(400, 30007) })],
    ['a plain object with a code', { code: 30007 }],
  ])('finds the code in %s', (_label, input) => {
    expect(twilioErrorCodeOf(input)).toBe(30007);
    expect(classifyTwilioError(input).scope).toBe('sender');
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a SQLSTATE (a string code on an error)', { code: '23505' }],
    ["Node's ECONNRESET", Object.assign(new Error('reset'), { code: 'ECONNRESET' })],
    ['a four-digit number', 3000],
    ['a six-digit string', '300070'],
    ['a fraction', 30007.5],
    ['an empty string', ''],
    ['a bug', new TypeError('x is undefined')],
  ])('finds no code in %s, and says unknown without throwing', (_label, input) => {
    const c = classifyTwilioError(input);
    expect(c).toMatchObject({ code: undefined, scope: 'unknown', source: undefined, failureKind: undefined });
  });

  it('a code not in the table is unknown but keeps its page, and classifyError falls back to the HTTP status', () => {
    const c = classifyTwilioError('21999');
    expect(c).toMatchObject({ code: 21999, scope: 'unknown', failureKind: undefined, source: 'https://www.twilio.com/docs/api/errors/21999' });
    expect(classifyError(restException(400, 21999))).toBe('caller');
    expect(classifyError(restException(503, 20503))).toBe('transient');
    expect(classifyError(restException(500, 20500))).toBe('transient');
  });

  it('the reason never carries the error message (which may hold a phone number)', () => {
    const error = Object.assign(new Error("The 'To' number +15551234567 is not a valid phone number."), { status: 400, code: 21211 });
    expect(JSON.stringify(classifyTwilioError(error))).not.toContain('5551234567');
  });
});
