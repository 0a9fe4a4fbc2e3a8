import { disabledBanner } from './banner.js';
import type { ResolvedAlertServiceOptions } from './resolve-alert-service-options.js';

/**
 * What the alert service says once, when it is built: the kill-switch banner (stderr or the
 * `banner` option) and error line, each sink's configuration warnings, and a warning when no
 * remote sink is configured (alerts then only reach the logs).
 *
 * @param resolved - The service's resolved options.
 * @example
 * announceStartup(resolveAlertServiceOptions({ disabled: true }));
 */
export function announceStartup(resolved: ResolvedAlertServiceOptions): void {
  const { logger } = resolved;
  if (resolved.disabled) {
    const write = resolved.banner ?? ((text: string) => void process.stderr.write(`${text}\n`));
    try {
      write(disabledBanner(resolved.disabledReason!));
    } catch {
      // the banner is best effort; the log line below still says it
    }
    logger.error({ alertsDisabled: true, reason: resolved.disabledReason }, 'ALERTS DISABLED: no alert will reach a person until this is switched back on');
  }
  for (const sink of resolved.sinks.values()) {
    for (const warning of sink.checkConfiguration?.() ?? []) logger.warn({ sink: sink.name }, warning);
  }
  if (resolved.remote.length === 0 && !resolved.disabled) {
    logger.warn({ sinks: [...resolved.known] }, 'alerting: no remote sink configured; alerts only reach the logs');
  }
}
