import { HardeningError } from '@hardening/core';

/**
 * Something that must never happen happened (e.g. an operational customer routed to
 * onboarding). The caller answers politely and raises an INVARIANT_VIOLATION alert.
 */
export class InvariantViolation extends HardeningError<'INVARIANT_VIOLATION'> {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super('INVARIANT_VIOLATION', message);
  }
}
