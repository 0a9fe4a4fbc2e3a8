import { describe, expect, it } from 'vitest';
import { maskPhoneNumber, scrubText, scrubValue } from './redact.js';

describe('redaction', () => {
  it('masks phone numbers, keeping the country digit and the last two', () => {
    expect(maskPhoneNumber('+15551234567')).toBe('+1********67');
    expect(maskPhoneNumber('+44 20 7946 0958')).toBe('+4*********58');
    expect(maskPhoneNumber('12')).toBe('***');
  });

  it('scrubs phone numbers, emails and secrets out of free text', () => {
    const text = scrubText(
      'to +15551234567 from (555) 987-6543, owner bob@example.com, key sk_live_abcdefghijk, xoxb-123456789-abcdef, Bearer abc.def.ghi.jkl, AC0123456789abcdef0123456789abcdef',
    );
    expect(text).not.toMatch(/5551234567|987-6543|bob@|sk_live|xoxb-|abc\.def|AC0123/);
    expect(text).toContain('+1********67');
    expect(text).toContain('[email]');
  });

  it('leaves short numbers, dates, times, long ids and timestamps alone', () => {
    expect(scrubText('3 retries in 2026 after 500 ms')).toBe('3 retries in 2026 after 500 ms');
    const benign = 'at 2026-03-01T12:30:45.123Z, epoch 1795717000860, order 12345678901234567890, id 4242';
    expect(scrubText(benign)).toBe(benign);
  });

  it('masks the usual ways of writing a phone number', () => {
    for (const phone of [
      '+15551234567',
      '+1 (555) 123-4567',
      '(555) 123-4567',
      '555-123-4567',
      '555.123.4567',
      '5551234567',
      '1-555-123-4567',
      '+44 20 7946 0958',
    ]) {
      expect(scrubText(`call ${phone} now`), phone).not.toMatch(/\d{3}.?\d{4}/);
    }
  });

  it('masking twice changes nothing', () => {
    const once = maskPhoneNumber('+15551234567');
    expect(maskPhoneNumber(once)).toBe(once);
    expect(scrubText(scrubText('to +15551234567'))).toBe(scrubText('to +15551234567'));
  });

  it('scrubs objects by key and by content', () => {
    expect(scrubValue({ to: '+15551234567', authToken: 'abc', nested: { body: 'call +15559876543' }, list: ['x@y.io'], n: 3 })).toEqual({
      to: '+1********67',
      authToken: '[redacted]',
      nested: { body: 'call +1********43' },
      list: ['[email]'],
      n: 3,
    });
  });
});
