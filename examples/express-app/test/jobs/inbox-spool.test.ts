// The spool's drain on the local file (no Redis): an outage stops it with every event kept;
// an event that fails on its own while the database answers goes to the back of the line,
// and is set aside after three failures, never blocking the events behind it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger } from '@hardening/test-support';
import { InboxSpool, type SpooledEvent } from '../../src/inbox-spool.js';

const event = (sid: string): SpooledEvent => ({ provider: 'twilio_sms', receivedAt: '2026-12-06T10:00:00.000Z', payload: { MessageSid: sid } });
const sidOf = (e: SpooledEvent) => e.payload.MessageSid as string;

describe('InboxSpool.drain', () => {
  let dir: string;
  let spool: InboxSpool;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
    spool = new InboxSpool(captureLogger(), undefined, join(dir, 'spool.jsonl'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('an outage stops the drain and keeps every event not yet stored, in order', async () => {
    for (const sid of ['SM1', 'SM2', 'SM3']) await spool.put(event(sid));
    const stored: string[] = [];
    const store = async (e: SpooledEvent) => {
      if (sidOf(e) === 'SM2') throw new Error('connect ECONNREFUSED');
      stored.push(sidOf(e));
    };
    await expect(spool.drain(store, { isOutage: () => true })).rejects.toThrow('ECONNREFUSED');
    expect(stored).toEqual(['SM1']);
    expect(await spool.size()).toBe(2);
    expect(await spool.deadLetters()).toEqual([]);
  });

  it('an event failing on its own is retried behind the others, then set aside after 3 failures', async () => {
    for (const sid of ['SMbad', 'SM2', 'SM3']) await spool.put(event(sid));
    const stored: string[] = [];
    const setAside: string[] = [];
    const options = { isOutage: () => false, onSetAside: (e: SpooledEvent) => void setAside.push(sidOf(e)) };
    const store = async (e: SpooledEvent) => {
      if (sidOf(e) === 'SMbad') throw new TypeError('cannot read this one');
      stored.push(sidOf(e));
    };
    expect(await spool.drain(store, options)).toBe(2);
    expect(stored).toEqual(['SM2', 'SM3']);
    expect(await spool.size()).toBe(1);
    expect(await spool.drain(store, options)).toBe(0);
    expect(setAside).toEqual([]);
    expect(await spool.drain(store, options)).toBe(0);
    expect(setAside).toEqual(['SMbad']);
    expect(await spool.size()).toBe(0);
    expect(await spool.deadLetters()).toMatchObject([{ payload: { MessageSid: 'SMbad' }, attempts: 3, reason: 'TypeError: cannot read this one' }]);
  });

  it('a permanent failure is set aside at once', async () => {
    await spool.put(event('SMpoison'));
    await spool.put(event('SMok'));
    const stored: string[] = [];
    const drained = await spool.drain(
      async (e) => {
        if (sidOf(e) === 'SMpoison') throw new Error('refused');
        stored.push(sidOf(e));
      },
      { isOutage: () => false, isPermanent: () => true },
    );
    expect([drained, stored, await spool.size()]).toEqual([1, ['SMok'], 0]);
    expect(await spool.deadLetters()).toMatchObject([{ payload: { MessageSid: 'SMpoison' }, attempts: 1 }]);
  });
});
