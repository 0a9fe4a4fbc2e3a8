import { createAlertService, createMemoryAlertStore, type AlertMessage, type AlertService, type AlertSink } from '@hardening/alerting';
import type { Logger } from '@hardening/core';
import { silentLogger } from '@hardening/core';

/**
 * A real alert service (dedup, routing, resolve notices) whose one sink keeps what reaches
 * it: the boundary where an operator's phone would be. `received` holds every alert and
 * resolve notice in order.
 */
export function recordingAlerts(options: { logger?: Logger } = {}): { alerts: AlertService; received: AlertMessage[]; alertsOf(type: string): AlertMessage[] } {
  const received: AlertMessage[] = [];
  const sink: AlertSink = {
    name: 'pager',
    async send(message) {
      received.push(message);
      return { ids: [message.id] };
    },
  };
  const alerts = createAlertService({
    sinks: [sink],
    store: createMemoryAlertStore(),
    routes: { HIGH: ['pager'], MEDIUM: ['pager'], LOW: ['pager'] },
    logger: options.logger ?? silentLogger,
    maintenanceIntervalMs: false,
    env: {},
  });
  return { alerts, received, alertsOf: (type) => received.filter((m) => m.type === type && m.kind === 'alert') };
}
