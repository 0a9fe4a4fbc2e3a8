// Item 2 of issue 10's follow-up: the store's own outage is paged once per process, not once
// per alert service (100 services per process paged it 4-7 times over 3 processes).
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { createAlertService } from '../alert-service.js';
import { createMemoryAlertStore } from '../store/memory-store.js';
import { createRedisAlertStore } from '../store/redis-store.js';
import type { AlertStore } from '../store/alert-store.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { recordingSink } from '../../test/support/recording-sink.js';
import { storeIdentity } from './self-page-registry.js';

/** A real memory store that refuses every call (as a dead Redis would) while `down.value`. */
function switchableStore(kind: string) {
  const down = { value: false };
  const inner = createMemoryAlertStore();
  const store: AlertStore = new Proxy(inner, {
    get: (target, property) => {
      if (property === 'kind') return kind;
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (down.value) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
        return Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args));
      };
    },
  });
  return { store, down };
}

const services = (store: AlertStore, count: number) => {
  const sms = recordingSink('sms');
  const logger = captureLogger();
  const all = Array.from({ length: count }, () =>
    createAlertService({
      sinks: [sms],
      store,
      logger,
      maintenanceIntervalMs: false,
      storeTimeoutMs: 200,
      retry: { initialDelayMs: 1, timeoutMs: 1000 },
      env: {},
    }),
  );
  const pages = () => sms.received.filter((m) => m.type === 'ALERTING_STORE_UNAVAILABLE').length;
  const fireAll = (round: number) =>
    Promise.all(
      all.map((service, i) =>
        service.sendCriticalAlert({ type: 'DB_DOWN', severity: 'HIGH', resourceId: `db-${round}-${i}`, title: 'Database down', message: 'x' }),
      ),
    );
  return { all, sms, logger, pages, fireAll };
};

describe('self-page of a store outage: once per process', () => {
  it('10 services of one process over one store: its outage is paged once, not once per service', async () => {
    const { store, down } = switchableStore(`switch-${process.pid}-a`);
    const { all, logger, pages, fireAll } = services(store, 10);
    try {
      down.value = true;
      await fireAll(1);
      await vi.waitFor(() => expect(pages()).toBe(1), { timeout: 10_000 });
      // every service saw the outage; nine only logged it
      await vi.waitFor(() => expect(logger.lines.filter((l) => l.msg?.includes('already paged by another alert service of this process'))).toHaveLength(9), {
        timeout: 10_000,
      });
      await fireAll(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(pages()).toBe(1);
    } finally {
      await Promise.all(all.map((service) => service.close()));
    }
  }, 60_000);

  it('a service that paged and closed does not silence the next service of the process', async () => {
    const { store, down } = switchableStore(`switch-${process.pid}-b`);
    const first = services(store, 1);
    down.value = true;
    await first.fireAll(1);
    await vi.waitFor(() => expect(first.pages()).toBe(1), { timeout: 10_000 });
    await first.all[0]!.close();
    const second = services(store, 1);
    try {
      await second.fireAll(2);
      await vi.waitFor(() => expect(second.pages()).toBe(1), { timeout: 10_000 });
    } finally {
      await second.all[0]!.close();
    }
  }, 60_000);

  it('two Redis store objects over the same server, db and prefix are one store; another prefix is another', () => {
    const clients = [0, 1, 2].map(() => new Redis({ host: '127.0.0.1', port: 6379, db: 0, lazyConnect: true }));
    try {
      const [a, b, c] = [
        createRedisAlertStore({ redis: clients[0]!, prefix: 'same:alerts' }),
        createRedisAlertStore({ redis: clients[1]!, prefix: 'same:alerts' }),
        createRedisAlertStore({ redis: clients[2]!, prefix: 'other:alerts' }),
      ];
      expect(storeIdentity(a)).toBe(storeIdentity(b));
      expect(storeIdentity(a)).not.toBe(storeIdentity(c));
      const memory = [createMemoryAlertStore(), createMemoryAlertStore()];
      expect(storeIdentity(memory[0]!)).not.toBe(storeIdentity(memory[1]!));
      expect(storeIdentity(memory[0]!)).toBe(storeIdentity(memory[0]!));
    } finally {
      for (const client of clients) client.disconnect();
    }
  });
});
