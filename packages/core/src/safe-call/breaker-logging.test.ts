// Two safeCall instances on one registry (the app's, and its alerting's) log a breaker
// transition once, while each instance's own hook still sees it.
import { describe, expect, it } from 'vitest';
import { BreakerRegistry, type StateChange } from '@hardening/circuit-breaker';
import { captureLogger } from '../../test/capture-logger.js';
import { createSafeCall } from './create-safe-call.js';

describe('breaker transitions on a shared registry', () => {
  it('are logged once, and reach every instance hook', () => {
    const registry = new BreakerRegistry();
    const first = captureLogger();
    const second = captureLogger();
    const seen: string[] = [];
    const hook = (who: string) => ({ onBreakerStateChange: (change: StateChange) => void seen.push(`${who}:${change.to}`) });
    createSafeCall({ registry, logger: first, hooks: hook('app') });
    createSafeCall({ registry, logger: second, hooks: hook('alerting') });
    registry.get('twilio_sms').open();
    const lines = [...first.lines, ...second.lines].filter((l) => l.msg?.includes('circuit "twilio_sms" open'));
    expect(lines).toHaveLength(1);
    expect(seen).toEqual(['app:open', 'alerting:open']);
  });

  it('are still logged by an instance on a registry of its own', () => {
    const logger = captureLogger();
    const registry = new BreakerRegistry();
    createSafeCall({ registry, logger });
    registry.get('svc').open();
    expect(logger.lines.filter((l) => l.level === 'warn' && l.msg === 'circuit "svc" open: calls refused')).toHaveLength(1);
  });
});
