/**
 * An alert the app raises, in the shape `@hardening/alerting`'s `sendCriticalAlert` takes.
 * Domain code depends on this callback type, not on the alerting package.
 */
export interface AlertInput {
  readonly type: string;
  readonly severity: 'LOW' | 'MEDIUM' | 'HIGH';
  readonly resourceId?: string | undefined;
  readonly title: string;
  readonly message: string;
  readonly context?: Record<string, unknown> | undefined;
}
