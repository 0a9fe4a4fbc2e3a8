import type { AlertStore } from '../store/alert-store.js';

/**
 * The process-wide book of which alert stores are known down and already paged, shared by
 * every {@link AlertService} of the process (through a `Symbol.for` key on `globalThis`, so
 * two copies of the package, ESM and CJS, share it too).
 *
 * Why: each service tracks its store's health on its own, and while the store is down its
 * dedup of the self-alert `ALERTING_STORE_UNAVAILABLE` can only be local. With 100 services
 * per process the outage was paged once per service whose breaker opened (4-7 pages
 * measured over 3 processes). With this book the first service of the process to see a
 * store go down pages; the others log that it was already paged. The fleet-wide guarantee
 * (one page for all processes) needs `designatedSender` (see README, "store down").
 */
interface Book {
  /** A stable id per store object without its own `identity`. */
  readonly ids: WeakMap<object, string>;
  next: number;
  /** Store identity -> the self-watch that paged the outage (open until an up or its close clears it). */
  readonly paged: Map<string, object>;
}

const key = Symbol.for('@hardening/alerting/self-page-registry');

function book(): Book {
  const holder = globalThis as { [key]?: Book };
  holder[key] ??= { ids: new WeakMap(), next: 0, paged: new Map() };
  return holder[key];
}

/**
 * The identity of a store for the self-page book: its own `identity` when it has one (two
 * store objects over the same Redis keys are one store), else the object itself.
 *
 * @param store - The store.
 * @returns A string naming the store in this process.
 */
export function storeIdentity(store: AlertStore): string {
  if (typeof store.identity === 'string' && store.identity !== '') return `${store.kind}:${store.identity}`;
  const { ids } = book();
  let id = ids.get(store);
  if (id === undefined) {
    id = `${store.kind}#${++book().next}`;
    ids.set(store, id);
  }
  return id;
}

/**
 * A service saw the store go down: true for the first service of the process (it pages),
 * false while the outage is already paged.
 *
 * @param identity - From {@link storeIdentity}.
 * @param owner - The service's self-watch (its close releases what it paged).
 */
export function claimStoreDownPage(identity: string, owner: object): boolean {
  const { paged } = book();
  if (paged.has(identity)) return false;
  paged.set(identity, owner);
  return true;
}

/**
 * A service saw the store answer again: the outage is over in this process, so the next one
 * pages again.
 *
 * @param identity - From {@link storeIdentity}.
 */
export function storeBackUp(identity: string): void {
  book().paged.delete(identity);
}

/**
 * A service closes: the outages it paged are forgotten, so a service created later pages the
 * next one (a closed service never sees its store come back).
 *
 * @param owner - The closing service's self-watch.
 */
export function releaseStoreDownPages(owner: object): void {
  const { paged } = book();
  for (const [identity, by] of paged) if (by === owner) paged.delete(identity);
}
