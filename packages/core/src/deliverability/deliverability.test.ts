import { describe, expect, it } from 'vitest';
import { advanceMessageStatus, isFinalMessageStatus, isMessageStatus, type MessageStatus } from './message-status.js';
import { classifySmsKeyword } from './sms-keywords.js';

describe('classifySmsKeyword', () => {
  it.each(['STOP', 'stopall', 'Unsubscribe', 'CANCEL', 'end', 'QUIT', 'revoke', 'OPTOUT', ' Stop. ', 'stop!'])('%j is an opt-out', (body) => {
    expect(classifySmsKeyword(body)).toBe('opt_out');
  });
  it.each(['START', 'yes', 'Unstop'])('%j is an opt-in', (body) => {
    expect(classifySmsKeyword(body)).toBe('opt_in');
  });
  it('HELP and INFO ask for help', () => {
    expect(classifySmsKeyword('help')).toBe('help');
    expect(classifySmsKeyword('INFO?')).toBe('help');
  });
  it('a keyword inside a sentence is a conversation, not a keyword', () => {
    expect(classifySmsKeyword('please stop by at 5')).toBeUndefined();
    expect(classifySmsKeyword('stopping')).toBeUndefined();
    expect(classifySmsKeyword('')).toBeUndefined();
  });
});

describe('advanceMessageStatus', () => {
  const replay = (statuses: MessageStatus[]) => statuses.reduce<MessageStatus | undefined>((s, next) => advanceMessageStatus(s, next).status, undefined);

  it('moves forward in order', () => {
    expect(replay(['queued', 'sending', 'sent', 'delivered'])).toBe('delivered');
  });
  it('an earlier status after a later one is stale', () => {
    expect(advanceMessageStatus('sent', 'queued')).toEqual({ status: 'sent', changed: false, reason: 'stale' });
    expect(replay(['queued', 'delivered', 'sent', 'sending'])).toBe('delivered');
  });
  it('a final status is never overwritten by an earlier one', () => {
    for (const final of ['delivered', 'undelivered', 'failed', 'canceled'] as const) {
      for (const early of ['accepted', 'queued', 'sending', 'sent'] as const) {
        expect(advanceMessageStatus(final, early)).toMatchObject({ status: final, changed: false, reason: 'terminal' });
      }
    }
    expect(advanceMessageStatus('failed', 'undelivered')).toMatchObject({ status: 'failed', reason: 'terminal' });
  });
  it('a success and a failure of one message (segments) merge into partially_delivered, in either order', () => {
    expect(replay(['sent', 'undelivered', 'delivered'])).toBe('partially_delivered');
    expect(replay(['sent', 'delivered', 'undelivered'])).toBe('partially_delivered');
    expect(advanceMessageStatus('partially_delivered', 'delivered')).toMatchObject({ changed: false });
  });
  it('a read receipt follows a delivery', () => {
    expect(advanceMessageStatus('delivered', 'read')).toMatchObject({ status: 'read', changed: true });
  });
  it('knows the statuses and which are final', () => {
    expect(isMessageStatus('delivered')).toBe(true);
    expect(isMessageStatus('toString')).toBe(false);
    expect(isFinalMessageStatus('sent')).toBe(false);
    expect(isFinalMessageStatus('undelivered')).toBe(true);
  });
});
