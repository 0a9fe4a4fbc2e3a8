// Smoke test of `pnpm demo` (its core function), so the scripted day cannot rot: every
// scene happens, the operator receives the alert, and no full phone number is printed.
import { describe, expect, it } from 'vitest';
import { nextTry, runDemo } from '../../scripts/demo/scripted-day.js';
import { nationalDigits } from './support/phones.js';

describe('pnpm demo', () => {
  it('plays the scripted day and prints a timeline with masked numbers', async () => {
    const printed: string[] = [];
    const result = await runDemo({ write: (line) => printed.push(line) });
    const text = printed.join('\n');
    expect(result.lines).toEqual(printed);
    // The onboarding, the missed call, the duplicates, the outage, the stuck client.
    expect(text).toContain("Dave's Plumbing is live");
    expect(text).toContain("Sorry we missed your call at Dave's Plumbing");
    expect(result.duplicatesAbsorbed).toBe(3);
    expect(result.breakerTransitions).toEqual(['twilio_sms: closed -> open', 'twilio_sms: open -> half-open', 'twilio_sms: half-open -> closed']);
    expect(result.slackAlerts.some((alert) => alert.includes('PAYMENT_BLOCK'))).toBe(true);
    expect(text).toContain('ACTION REQUIRED');
    expect(text).toContain("Dave's Plumbing: live, told by SMS");
    expect(printed.at(-1)).toBe(nextTry); // ends by saying what to try next
    // Six SMS to people, each once: test call, live, missed call, urgent alert, fail-safe, the one delayed by the outage.
    expect(result.smsSent).toBe(6);
    for (const person of result.people) {
      expect(text).not.toContain(person);
      expect(text).not.toContain(nationalDigits(person));
    }
  }, 180_000); // not a speed test: the day takes ~15 s of CPU, over a minute on a busy machine
});
