// Two safeCall instances on one registry and one logger (the app's, and its alerting's) log
// a breaker transition once, while each instance's own hook still sees it.
import { describe, expect, it } from 'vitest';
import { BreakerRegistry, type StateChange } from '@hardening/circuit-breaker';
import { captureLogger, type LogLine } from '../../test/capture-logger.js';
import { createSafeCall } from './create-safe-call.js';

const opened = (name: string) => (l: LogLine) => l.level === 'warn' && l.msg === `circuit "${name}" open: calls refused`;

describe('breaker transitions on a shared registry', () => {
  it('are logged once per logger, and reach every instance hook', () => {
    const registry = new BreakerRegistry();
    const logger = captureLogger();
    const seen: string[] = [];
    const hook = (who: string) => ({ onBreakerStateChange: (change: StateChange) => void seen.push(`${who}:${change.to}`) });
    createSafeCall({ registry, logger, hooks: hook('app') });
    createSafeCall({ registry, logger, hooks: hook('alerting') });
    registry.get('twilio_sms').open();
    expect(logger.lines.filter(opened('twilio_sms'))).toHaveLength(1);
    expect(seen).toEqual(['app:open', 'alerting:open']);
  });

  it('still reach each of two different loggers', () => {
    const registry = new BreakerRegistry();
    const first = captureLogger();
    const second = captureLogger();
    createSafeCall({ registry, logger: first });
    createSafeCall({ registry, logger: second });
    registry.get('svc').open();
    expect(first.lines.filter(opened('svc'))).toHaveLength(1);
    expect(second.lines.filter(opened('svc'))).toHaveLength(1);
  });
});
