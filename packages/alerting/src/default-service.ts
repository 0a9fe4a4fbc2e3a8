import type { AlertInput, AlertResult } from './alert.js';
import type { AlertServiceOptions, AlertSystemStatus, ResolveInput, RestoreSilence } from './alert-service-options.js';
import { AlertService } from './alert-service.js';
import type { SilenceMatcher, SilenceOptions } from './silences.js';
import type { AlertStats } from './stats.js';

// One default service per process, shared by the ESM and CJS copies of the package.
const slot = Symbol.for('@hardening/alerting/default-service');
type Holder = { [slot]?: AlertService };
const holder = globalThis as Holder;

/**
 * Sets the process-wide alert service that {@link sendCriticalAlert},
 * {@link getAlertSystemStatus} and the other module functions use.
 *
 * @param serviceOrOptions - A service, or options to create one.
 * @returns The service now in use.
 * @throws TypeError for invalid options.
 * @example
 * ```ts
 * import { configureAlerts, createAlertServiceFromEnv } from '@hardening/alerting';
 * configureAlerts(await createAlertServiceFromEnv({ store }));
 * ```
 */
export function configureAlerts(serviceOrOptions: AlertService | AlertServiceOptions): AlertService {
  const service = serviceOrOptions instanceof AlertService ? serviceOrOptions : new AlertService(serviceOrOptions);
  holder[slot] = service;
  return service;
}

/**
 * The process-wide alert service, if one was configured.
 *
 * @returns The service, or `undefined`.
 * @example
 * ```ts
 * import { getDefaultAlertService } from '@hardening/alerting';
 * await getDefaultAlertService()?.close();
 * ```
 */
export function getDefaultAlertService(): AlertService | undefined {
  return holder[slot];
}

function service(): AlertService {
  // Not configured: alerts still reach the log (and the status says alerting is off).
  holder[slot] ??= new AlertService({ maintenanceIntervalMs: false });
  return holder[slot];
}

/**
 * {@link AlertService.sendCriticalAlert} on the process-wide service. Never throws. Before
 * {@link configureAlerts}, alerts go to the log only.
 *
 * @param input - The alert.
 * @returns What happened.
 * @example
 * ```ts
 * import { sendCriticalAlert } from '@hardening/alerting';
 * await sendCriticalAlert({ type: 'OPENAI_FAILURE', severity: 'HIGH', title: 'OpenAI failing', message: '5 failures in 15 min' });
 * ```
 */
export function sendCriticalAlert(input: AlertInput): Promise<AlertResult> {
  return service().sendCriticalAlert(input);
}

/**
 * {@link AlertService.resolveAlert} on the process-wide service.
 *
 * @param input - Type and resource.
 * @returns `resolved` or `not_active`.
 * @example
 * ```ts
 * import { resolveAlert } from '@hardening/alerting';
 * await resolveAlert({ type: 'OPENAI_FAILURE' });
 * ```
 */
export function resolveAlert(input: ResolveInput): Promise<AlertResult> {
  return service().resolveAlert(input);
}

/**
 * {@link AlertService.silenceAlerts} on the process-wide service.
 *
 * @param matcher - Which alerts (all when omitted).
 * @param options - `until`, `durationMs`, `reason`.
 * @returns A function that ends the silence.
 * @throws TypeError for a bad matcher or duration.
 * @example
 * ```ts
 * import { silenceAlerts } from '@hardening/alerting';
 * const restore = silenceAlerts({ type: 'TWILIO_FAILURE' }, { durationMs: 30 * 60_000, reason: 'Twilio incident' });
 * ```
 */
export function silenceAlerts(matcher?: SilenceMatcher, options?: SilenceOptions): RestoreSilence {
  return service().silenceAlerts(matcher, options);
}

/**
 * {@link AlertService.getAlertSystemStatus} of the process-wide service; before
 * {@link configureAlerts}: `enabled: false` with the reason.
 *
 * @returns The status.
 * @example
 * ```ts
 * import { getAlertSystemStatus } from '@hardening/alerting';
 * const { enabled, reason } = getAlertSystemStatus();
 * ```
 */
export function getAlertSystemStatus(): AlertSystemStatus {
  const current = holder[slot];
  if (current === undefined) {
    return {
      enabled: false,
      reason: 'alerting is not configured (call configureAlerts): alerts only reach the logs',
      sinks: [],
      routes: { LOW: ['log'], MEDIUM: ['log'], HIGH: ['log'] },
      healthy: false,
      problems: ['alerting is not configured'],
      store: 'none',
      storeHealthy: true,
      stores: [],
      historyStore: 'none',
      history: { queued: 0, dropped: 0 },
      claimedVia: 'store',
      pending: { count: 0 },
      silences: [],
      acknowledged: [],
      breakers: {},
    };
  }
  return current.getAlertSystemStatus();
}

/**
 * {@link AlertService.getAlertStats} of the process-wide service.
 *
 * @param options - `hours` (default 24).
 * @returns The stats.
 * @example
 * ```ts
 * import { getAlertStats } from '@hardening/alerting';
 * const stats = await getAlertStats({ hours: 24 });
 * ```
 */
export function getAlertStats(options?: { readonly hours?: number }): Promise<AlertStats> {
  return service().getAlertStats(options);
}
