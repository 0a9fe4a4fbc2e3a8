import { describeAlertStoreContract } from '../../test/store-contract.js';
import { createMemoryAlertStore } from './memory-store.js';

describeAlertStoreContract('memory', () => Promise.resolve({ store: createMemoryAlertStore(), close: async () => {} }));
