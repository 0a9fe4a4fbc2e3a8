// After a fault: what the fake Twilio sent a number once the app's recovery has run.
import { eventually, type FakeTwilioMessage } from '@hardening/test-support';
import { sweepOnce } from '../../../src/jobs/sweep.js';
import type { TestApp } from './test-app.js';

/**
 * Runs the sweep (spool drain, queued retries) and the outbox until an SMS to `to` went out
 * (60 s at most), then both once more, so a second copy would show: the SMS `to` got.
 * Errors of a round are ignored (the database may still be coming back); the wait is what fails.
 */
export async function smsAfterRecovery(app: Pick<TestApp, 'ctx' | 'drainOutbox' | 'smsTo'>, to: string): Promise<FakeTwilioMessage[]> {
  const round = async () => {
    await sweepOnce(app.ctx).catch(() => undefined);
    await app.drainOutbox().catch(() => undefined);
  };
  await eventually(
    async () => {
      await round();
      return app.smsTo(to).length > 0;
    },
    60_000,
    250,
  );
  await round();
  return app.smsTo(to);
}
