import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * Why a recovery action was not run: `cooldown` (it ran less than `cooldownMs` ago),
 * `hourly-limit` (`maxPerHour` reached), `in-progress` (it is running now) or
 * `unknown-service` (no action is registered under that name).
 *
 * @example
 * ```ts
 * import type { RecoveryRefusalReason } from '@hardening/health';
 * const retryable = (reason: RecoveryRefusalReason) => reason !== 'unknown-service';
 * ```
 */
export type RecoveryRefusalReason = 'cooldown' | 'hourly-limit' | 'in-progress' | 'unknown-service';

/**
 * A recovery action was refused by its limits (or does not exist). Carries when it may
 * run again, which `POST /health/recover` sends as `Retry-After`.
 *
 * @example
 * ```ts
 * import { RecoveryManager, isRecoveryRefusedError } from '@hardening/health';
 * const recovery = new RecoveryManager({ actions: { postgres: async () => {} } });
 * await recovery.recover('postgres');
 * try {
 *   await recovery.recover('postgres');
 * } catch (error) {
 *   if (isRecoveryRefusedError(error)) console.log(error.reason, error.retryAfterMs);
 * }
 * ```
 */
export class RecoveryRefusedError extends HardeningError<'RECOVERY_REFUSED'> {
  /** The service whose action was refused. */
  readonly service: string;
  /** Why. */
  readonly reason: RecoveryRefusalReason;
  /** How long until it may run, ms (`undefined` for an unknown service or one in progress). */
  readonly retryAfterMs: number | undefined;

  /**
   * @param service - The service.
   * @param reason - Why it was refused.
   * @param retryAfterMs - How long until it may run.
   */
  constructor(service: string, reason: RecoveryRefusalReason, retryAfterMs?: number) {
    const why = {
      cooldown: `ran recently; cooldown ends in ${Math.ceil((retryAfterMs ?? 0) / 1000)} s`,
      'hourly-limit': `hourly limit reached; next slot in ${Math.ceil((retryAfterMs ?? 0) / 1000)} s`,
      'in-progress': 'an attempt is running now',
      'unknown-service': 'no recovery action is registered for it',
    }[reason];
    super('RECOVERY_REFUSED', `Recovery of "${service}" refused: ${why}`);
    this.service = service;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * True when `error` is a {@link RecoveryRefusedError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether it is a refused recovery.
 * @example
 * ```ts
 * import { isRecoveryRefusedError } from '@hardening/health';
 * const limited = (e: unknown) => isRecoveryRefusedError(e) && e.reason === 'cooldown';
 * ```
 */
export function isRecoveryRefusedError(error: unknown): error is RecoveryRefusedError {
  return hasErrorCode(error, 'RECOVERY_REFUSED');
}
