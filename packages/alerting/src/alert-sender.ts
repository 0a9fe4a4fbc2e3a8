import type { AlertInput, AlertResult } from './alert.js';
import type { ResolveInput } from './alert-service-options.js';

/**
 * What detectors and reporting helpers need of an alert service: an {@link AlertService}
 * fits, and so does anything with the same two methods (a wrapper that adds tags, say).
 *
 * @example
 * ```ts
 * import type { AlertSender } from '@hardening/alerting';
 * const printing: AlertSender = {
 *   sendCriticalAlert: async (alert) => { console.log(alert.title); return { status: 'delivered', alertId: '1', type: alert.type, key: '*', severity: alert.severity, deliveredTo: ['log'], failedSinks: [], fellBack: false }; },
 *   resolveAlert: async (input) => ({ status: 'not_active', alertId: '', type: input.type, key: '*', severity: 'LOW', deliveredTo: [], failedSinks: [], fellBack: false }),
 * };
 * ```
 */
export interface AlertSender {
  sendCriticalAlert(input: AlertInput): Promise<AlertResult>;
  resolveAlert(input: ResolveInput): Promise<AlertResult>;
}
