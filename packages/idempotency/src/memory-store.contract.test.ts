import { describeStoreContract } from '../test/store-contract.js';
import { manualClock } from '../test/manual-clock.js';
import { createMemoryStore } from './memory-store.js';

describeStoreContract('memory', () => {
  const clock = manualClock();
  return Promise.resolve({ store: createMemoryStore({ clock }), shortMs: 1000, elapse: (ms) => Promise.resolve(clock.advance(ms)), close: async () => {} });
});
