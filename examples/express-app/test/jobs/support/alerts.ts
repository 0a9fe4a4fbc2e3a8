import { createAlertService, createMemoryAlertStore, type AlertMessage, type AlertService, type AlertSink, type Clock } from '@hardening/alerting';
import type { Logger } from '@hardening/core';
import { silentLogger } from '@hardening/core';

/** What reached the operator, and when (the service's clock). */
export interface ReceivedAlert {
  readonly at: number;
  readonly message: AlertMessage;
}

/**
 * A real alert service (dedup windows, routing, resolve notices) whose one sink keeps what
 * reaches it: the boundary where an operator's phone would be.
 */
export function recordingAlerts(options: { logger?: Logger; clock?: Clock } = {}): {
  alerts: AlertService;
  /** Every alert and resolve notice, in order. */
  received: ReceivedAlert[];
  /** Alerts (not resolve notices) of `type`, optionally on `resourceId`. */
  readonly alertsOf: (type: string, resourceId?: string) => ReceivedAlert[];
  /** Resolve notices of `type`, optionally on `resourceId`. */
  readonly resolvesOf: (type: string, resourceId?: string) => ReceivedAlert[];
} {
  const received: ReceivedAlert[] = [];
  const sink: AlertSink = {
    name: 'pager',
    send(message) {
      received.push({ at: options.clock?.now() ?? Date.now(), message });
      return Promise.resolve({ ids: [message.id] });
    },
  };
  const alerts = createAlertService({
    sinks: [sink],
    store: createMemoryAlertStore(),
    routes: { HIGH: ['pager'], MEDIUM: ['pager'], LOW: ['pager'] },
    logger: options.logger ?? silentLogger,
    maintenanceIntervalMs: false,
    env: {},
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const of = (kind: string) => (type: string, resourceId?: string) =>
    received.filter((r) => r.message.kind === kind && r.message.type === type && (resourceId === undefined || r.message.resourceId === resourceId));
  return { alerts, received, alertsOf: of('alert'), resolvesOf: of('resolve') };
}
