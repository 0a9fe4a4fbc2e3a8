import { describeStoreContract } from '../test/store-contract.js';
import { manualClock } from '../test/manual-clock.js';
import { createMemoryStore } from './memory-store.js';

describeStoreContract('memory', async () => {
  const clock = manualClock();
  return { store: createMemoryStore({ clock }), shortMs: 1000, elapse: async (ms) => clock.advance(ms), close: async () => {} };
});
